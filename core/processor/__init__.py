"""Prompts and media -> model inputs: placeholder expansion, batching, labels, streaming decode.

Importing this package does not import torch (tensors are made when a batch is built).
"""
from mmplug.core.processor.batching import IGNORE_INDEX, ProcessorOutput
from mmplug.core.processor.processor import Processor
from mmplug.core.processor.streaming import StreamingDetokenizer

__all__ = ["IGNORE_INDEX", "Processor", "ProcessorOutput", "StreamingDetokenizer"]
