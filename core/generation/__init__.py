"""Generation: sampling rules, the decode loop with a KV cache, stop conditions and streaming."""
from mmplug.core.generation.config import GenerationConfig
from mmplug.core.generation.engine import GenerationResult, decode_steps, generate_ids

__all__ = ["GenerationConfig", "GenerationResult", "decode_steps", "generate_ids"]
