"""Checkpoint test helpers: a tiny random reference Video-LLaVA (transformers, test-only) saved in
each weight layout by renaming its published keys with the tests' own rules."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import torch
from safetensors.torch import load_file, save_file

from fixture_paths import FIXTURES
from model.reference import IMAGE, Tiny, pixels, prompt

TINY = Tiny(attention="eager")


def rename(state: dict[str, torch.Tensor], rules: list[tuple[str, str]]) -> dict[str, torch.Tensor]:
    """Keys rewritten by the first matching (old prefix, new prefix) rule; unmatched keys kept."""
    out = {}
    for key, value in state.items():
        for old, new in rules:
            if key.startswith(old):
                key = new + key[len(old):]
                break
        out[key] = value
    return out


#: Layout name -> rules from the published layout (what transformers 4.56 save_pretrained writes).
LAYOUT_RULES: dict[str, list[tuple[str, str]]] = {
    "published": [],
    "v5": [("image_tower.vision_model.", "image_tower."), ("video_tower.vision_model.", "video_tower.")],
    "v5_prefixed": [("language_model.model.", "model.language_model."), ("language_model.lm_head.", "lm_head."),
                    ("image_tower.vision_model.", "model.image_tower."),
                    ("video_tower.vision_model.", "model.video_tower."),
                    ("multi_modal_projector.", "model.multi_modal_projector.")],
    "state_dict": [("language_model.model.", "model.language_model."), ("language_model.lm_head.", "lm_head."),
                   ("image_tower.", "model.image_tower."), ("video_tower.", "model.video_tower."),
                   ("multi_modal_projector.", "model.multi_modal_projector.")],
}
#: The original LanguageBind/Video-LLaVA-7B names (as the published conversion script undid them).
LANGUAGEBIND_RULES = [("language_model.model.", "model."), ("language_model.lm_head.", "lm_head."),
                      ("multi_modal_projector.linear_1.", "model.mm_projector.0."),
                      ("multi_modal_projector.linear_2.", "model.mm_projector.2."),
                      ("image_tower.vision_model.", "model.image_tower.image_tower."),
                      ("video_tower.vision_model.", "model.video_tower.video_tower.")]


def write_layout(published: Path, out: Path, layout: str,
                 edit: Callable[[dict[str, torch.Tensor]], None] | None = None) -> Path:
    """Copy a published-layout checkpoint to ``out`` with its keys renamed for ``layout``."""
    out.mkdir(parents=True, exist_ok=True)
    state = rename(load_file(published / "model.safetensors"), LAYOUT_RULES[layout])
    if edit is not None:
        edit(state)
    save_file(state, out / "model.safetensors", metadata={"format": "pt"})
    shutil.copyfile(published / "config.json", out / "config.json")
    return out


def inputs() -> dict[str, Any]:
    """A prompt with text and one image (ids below IMAGE are text)."""
    return {"input_ids": torch.tensor([prompt(TINY, 1, 7, "image", 5, 6, 9)]), "pixels": pixels(1)}


def reference_logits(reference: Any, batch: dict[str, Any]) -> torch.Tensor:
    with torch.no_grad():
        return reference(input_ids=batch["input_ids"], pixel_values_images=batch["pixels"]).logits


def ours_logits(model: Any, batch: dict[str, Any]) -> torch.Tensor:
    with torch.no_grad():
        return model(batch["input_ids"], pixel_values_images=batch["pixels"]).logits


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


__all__ = ["IMAGE", "TINY", "FIXTURES", "LAYOUT_RULES", "LANGUAGEBIND_RULES", "inputs", "ours_logits", "read_json",
           "reference_logits", "rename", "write_layout"]
