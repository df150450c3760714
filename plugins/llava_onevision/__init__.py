"""The LLaVA-OneVision family (LlavaOnevisionForConditionalGeneration): the ``onevision_mlp``
projector (2x2 bilinear pooling of video frames, the image newline token), its checkpoint layout,
``config.json`` translation and the ``llava-onevision-qwen2-0.5b`` preset.

Not implemented yet: the anyres image path (tiling into a grid of crops, unpadding, newline per
row) and OneVision's processor files; pipelines of this family take videos only.
Registers lazy references only: importing this module never imports torch.
"""
from __future__ import annotations

from pathlib import Path

from mmplug.registry import hookimpl

PRESETS = {"llava-onevision-qwen2-0.5b": "LLaVA-OneVision 0.5B architecture (SigLIP so400m + Qwen2-0.5B; "
                                         "videos only in mmplug so far)"}


def load_preset(name: str) -> dict:
    import yaml

    return yaml.safe_load((Path(__file__).parent / f"{name}.yaml").read_text(encoding="utf-8"))


@hookimpl
def mmplug_register_parts(register):
    register("projector", "onevision_mlp", "mmplug.plugins.llava_onevision.projector:build_onevision_projector",
             options="mmplug.plugins.llava_onevision.options:OnevisionProjectorOptions",
             summary="LLaVA-OneVision MLP: 2x2 bilinear pooling of video frames, newline token after each video")
    register("checkpoint_format", "llava_onevision", "mmplug.plugins.llava_onevision.layouts:llava_onevision",
             summary="LLaVA-OneVision layout (llava-hf *-ov-hf, transformers 4.x save_pretrained)")


@hookimpl
def mmplug_register_presets(register):
    for name, summary in PRESETS.items():
        register(name, lambda name=name: load_preset(name), summary=summary)
