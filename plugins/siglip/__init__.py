"""Built-in SigLIP parts: the ``siglip`` vision encoder (SiglipVisionModel: pixels (N,3,S,S) ->
hidden states (N, (S//patch)^2, hidden), no CLS token) and the ``siglip`` image processor
(square resize without crop, mean/std 0.5).

Registers lazy references only (importing this module never imports torch).
"""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("vision_encoder", "siglip", "mmplug.plugins.siglip.tower:build_siglip",
             options="mmplug.plugins.siglip.options:SiglipOptions",
             hf_mapping="mmplug.plugins.siglip.options:SIGLIP_VISION",
             summary="SigLIP ViT tower (no CLS token, tanh GELU, post-layernorm, optional pooling head)")
    register("image_processor", "siglip", "mmplug.plugins.siglip.image:build_siglip_image_processor",
             options="mmplug.plugins.siglip.options:SiglipImageOptions",
             summary="SigLIP preprocessing: resize to a square (no crop), rescale, normalise with mean/std 0.5")
