"""Built-in image plugin: the ``clip`` image processor (registered through the mmplug entry point group).

The processor module (torch, PIL) loads only when the part is built.
"""
from mmplug.registry import hookimpl


@hookimpl
def mmplug_register_parts(register):
    register("image_processor", "clip", "mmplug.plugins.image.clip:build_clip_image_processor",
             options="mmplug.plugins.image.options:ClipImageOptions",
             summary="CLIP preprocessing: shortest edge, center crop, normalise; batched fast path for frames")
