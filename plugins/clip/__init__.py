"""Built-in CLIP ViT vision encoder ``clip``: pixels (N,3,S,S) -> hidden states
(N, 1 + (S/patch)^2, hidden) of the requested layers, CLS token first.

Registers lazy references only (importing this module never imports torch).
"""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("vision_encoder", "clip", "mmplug.plugins.clip.tower:build_clip",
             options="mmplug.plugins.clip.options:ClipOptions", hf_mapping="mmplug.plugins.clip.options:CLIP_VISION",
             summary="CLIP ViT tower (patch/class/position embeddings, pre-LN, quick_gelu MLP blocks)")
