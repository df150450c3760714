"""Abstract interfaces of every plugin kind. Shapes are the contract.

These modules import neither torch nor any model code at import time.
"""
from mmplug.core.interfaces.attention import AttentionBackend, AttentionRequest, Availability
from mmplug.core.interfaces.checkpoint import CheckpointFormat
from mmplug.core.interfaces.image import ImageProcessor
from mmplug.core.interfaces.language import LanguageModel, LanguageModelOutput
from mmplug.core.interfaces.projector import Projector
from mmplug.core.interfaces.text import ChatTemplate, Tokenizer
from mmplug.core.interfaces.video import DecodedFrames, FrameSampler, MediaSource, VideoDecoder, VideoInfo
from mmplug.core.interfaces.vision import VisionEncoder

__all__ = [
    "AttentionBackend", "AttentionRequest", "Availability", "ChatTemplate", "CheckpointFormat",
    "DecodedFrames", "FrameSampler", "ImageProcessor", "LanguageModel", "LanguageModelOutput",
    "MediaSource", "Projector", "Tokenizer", "VideoDecoder", "VideoInfo", "VisionEncoder",
]
