"""The LLaVA-1.5 model family (LlavaForConditionalGeneration): its checkpoint layouts, their
``config.json`` translation and the ``llava-1.5-7b`` preset. Images only: one CLIP tower
(336 px, 576 tokens per image), an MLP projector, a Llama decoder.

Registers lazy references only: importing this module never imports torch.
"""
from __future__ import annotations

from pathlib import Path

from mmplug.registry import hookimpl

LAYOUTS = {
    "llava": "LLaVA-1.5 layout (llava-hf, transformers 4.x save_pretrained)",
    "llava_state_dict": "LLaVA, transformers >= 4.52 in-memory state_dict names (model.vision_tower.*)",
}
PRESETS = {"llava-1.5-7b": "LLaVA-1.5 7B (llava-hf/llava-1.5-7b-hf architecture, 7.06 B parameters)"}


def load_preset(name: str) -> dict:
    import yaml

    return yaml.safe_load((Path(__file__).parent / f"{name}.yaml").read_text(encoding="utf-8"))


@hookimpl
def mmplug_register_parts(register):
    for name, summary in LAYOUTS.items():
        register("checkpoint_format", name, f"mmplug.plugins.llava.layouts:{name}", summary=summary)


@hookimpl
def mmplug_register_presets(register):
    for name, summary in PRESETS.items():
        register(name, lambda name=name: load_preset(name), summary=summary)
