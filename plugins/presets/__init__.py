"""Built-in presets: named, validated pipeline configs shipped with mmplug.

Registered through the ``mmplug`` entry point like any third-party preset.
The bundled processor files (tokenizer, chat template) are the Video-LLaVA-7B-hf
ones; presets point their ``tokenizer`` and ``chat_template`` sections at them.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from mmplug.registry import hookimpl

HERE = Path(__file__).parent
PROCESSOR_DIR = HERE / "data" / "video-llava-processor"
PRESETS = {
    "video-llava-7b": "Video-LLaVA-7B-hf architecture (7.37 B parameters)",
    "tiny-random": "tiny random-weight Video-LLaVA-shaped model for tests and smoke runs",
}


def load_preset(name: str) -> dict:
    """The preset's config dict, with the bundled processor files filled in."""
    config = yaml.safe_load((HERE / f"{name}.yaml").read_text(encoding="utf-8"))
    for section in ("tokenizer", "chat_template"):
        if section in config and "path" not in config[section] and "template" not in config[section]:
            config[section]["path"] = str(PROCESSOR_DIR)
    return config


@hookimpl
def mmplug_register_presets(register):
    for name, summary in PRESETS.items():
        register(name, lambda name=name: load_preset(name), summary=summary)
