"""The original LanguageBind/Video-LLaVA-7B checkpoint: a ``llava`` config (``mm_projector_type``,
``mm_image_tower``...), keys ``model.layers.*``, ``model.mm_projector.0/2.*``,
``model.image_tower.image_tower.*``, ``model.video_tower.video_tower.*``, ``lm_head.weight``,
and a 32000-token vocabulary without ``<image>``/``<video>``/``<pad>``.

It is recognised but never loaded directly (the model would lack its placeholder tokens);
``mmplug convert`` imports it the way the published conversion did: three token rows added
(vocabulary padded to a multiple of 64), sampled from a normal fitted to the existing
embeddings (covariance x 1e-5), with a fixed seed.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Iterable

from mmplug.core.checkpoint.hf_mapping import GENERIC_KEYS
from mmplug.core.errors import CheckpointError
from mmplug.plugins.checkpoints.prefix import DECODER, LM_HEAD, VIDEO, VISION, PrefixFormat
from mmplug.plugins.video_llava.translation import processor_sections, runtime_sections

#: llava config keys that describe training or the original repository's loading; unused.
LLAVA_UNUSED = {"mm_image_tower", "mm_video_tower", "mm_vision_tower", "mm_hidden_size", "mm_use_im_patch_token",
                "freeze_mm_mlp_adapter", "tune_mm_mlp_adapter", "use_mm_proj", "image_aspect_ratio",
                "image_grid_pinpoints", "mm_projector_lr", "mm_vision_tower_lr", "tokenizer_padding_side",
                "tokenizer_model_max_length", "unfreeze_mm_vision_tower", "X", "freeze_backbone",
                "mm_use_im_start_end", "mm_projector_type", "mm_vision_select_layer", "mm_vision_select_feature"}
SELECT = {"patch": "default", "cls_patch": "full"}
PAD_TO, SEED, COVARIANCE_SCALE = 64, 0, 1e-5
TOWER_KEYS = ("embeddings.patch_embedding.weight", "embeddings.position_embedding.weight",
              "encoder.layers.0.mlp.fc1.weight")


class LanguageBindFormat(PrefixFormat):
    """Recognised by its ``model.mm_projector.*`` tensors, or (tensor names unknown, e.g. pickle
    files not opened yet) by a llava config naming ``mm_projector_type``."""

    loadable = False
    hint = ("it has no <image>/<video>/<pad> tokens and its config is not a Video-LLaVA config. Convert it once "
            "with `mmplug convert SRC DST --processor DIR [--allow-pickle]` (DIR: processor files of "
            "Video-LLaVA-7B-hf, e.g. mmplug's bundled plugins/presets/data/video-llava-processor); the result "
            "loads with Pipeline.from_pretrained(DST)")

    def matches(self, keys: Iterable[str], config: dict[str, Any]) -> bool:
        keys = list(keys)
        if not keys:
            return "mm_projector_type" in (config or {}) and "mm_image_tower" in (config or {})
        return super().matches(keys, config)

    def import_checkpoint(self, directory: Path, files: Any, config: dict[str, Any], *, processor: Path | None,
                          registry: Any, overrides: Any = None) -> tuple[Any, Any, Path]:
        """(model, resolved config, processor directory) of the converted checkpoint. The towers'
        head count is not in the files: it is taken as hidden / 64 unless ``overrides`` set
        ``vision_encoder.num_heads`` / ``video_encoder.num_heads``."""
        if processor is None:
            raise CheckpointError(f"{directory} is an original LanguageBind checkpoint; converting it needs the "
                                  "Video-LLaVA processor files (tokenizer with <image>, <video>, <pad>): pass "
                                  "--processor DIR (e.g. mmplug's bundled plugins/presets/data/video-llava-processor)")
        from mmplug.core.builder import build_model
        from mmplug.core.checkpoint.loader import fill
        from mmplug.core.resolve import resolve_config

        data = pipeline_config(config, files, str(directory / "config.json"))
        vocab = data["language_model"]["vocab_size"]
        original = resolve_config(data, overrides, registry=registry)
        model = fill(build_model(original, meta=True), files, self, dtype="float32")
        grown = math.ceil((vocab + 3) / PAD_TO) * PAD_TO
        data["language_model"]["vocab_size"] = grown
        data["multimodal"].update(image_token_id=vocab, video_token_id=vocab + 1, pad_token_id=vocab + 2)
        data.update(processor_sections(Path(processor)))
        resolved = resolve_config(data, overrides, registry=registry)
        check_tokens(Path(processor), data["multimodal"])
        state = model.state_dict()
        for name in ("language_model.embed_tokens.weight", "language_model.lm_head.weight"):
            state[name] = grow_rows(state[name], state["language_model.embed_tokens.weight"], grown)
        converted = build_model(resolved, meta=True)
        converted.load_state_dict(state, strict=True, assign=True)
        return converted, resolved, Path(processor)


def languagebind(options: Any, context: Any) -> LanguageBindFormat:
    return LanguageBindFormat("languagebind", "original LanguageBind/Video-LLaVA-7B checkpoint", [
        ("lm_head.", LM_HEAD), ("model.mm_projector.0.", "projector.linear_1."),
        ("model.mm_projector.2.", "projector.linear_2."), ("model.image_tower.image_tower.", VISION),
        ("model.video_tower.video_tower.", VIDEO), ("model.", DECODER)],
        required=("model.mm_projector.",), model_types=())


def tower_options(files: Any, prefix: str, where: str) -> dict[str, Any]:
    """CLIP options read off the tower's tensor shapes (heads: hidden / 64, the ViT convention)."""
    keys = files.keys()
    for suffix in TOWER_KEYS:
        if prefix + suffix not in keys:
            raise CheckpointError(f"{where}: tensor {prefix + suffix!r} is missing; cannot infer the tower's shape")
    hidden, channels, patch, _ = files.shape(prefix + TOWER_KEYS[0])
    positions = files.shape(prefix + TOWER_KEYS[1])[0]
    side = math.isqrt(positions - 1)
    layers = {int(k[len(prefix) + len("encoder.layers."):].split(".")[0]) for k in keys
              if k.startswith(prefix + "encoder.layers.")}
    return {"name": "clip", "hidden_size": hidden, "intermediate_size": files.shape(prefix + TOWER_KEYS[2])[0],
            "num_layers": len(layers), "num_heads": max(1, hidden // 64), "image_size": side * patch,
            "patch_size": patch, "num_channels": channels}


def pipeline_config(config: dict[str, Any], files: Any, where: str) -> dict[str, Any]:
    """The mmplug config of the original checkpoint (its own 32000-token vocabulary)."""
    from mmplug.core.errors import ConfigIssue
    from mmplug.plugins.language.options import LLAMA

    if config.get("mm_projector_type", "mlp2x_gelu") != "mlp2x_gelu":
        raise CheckpointError(f"{where}: mm_projector_type {config['mm_projector_type']!r} is not supported "
                              "(only mlp2x_gelu)")
    if config.get("mm_use_im_start_end"):
        raise CheckpointError(f"{where}: mm_use_im_start_end is true; such checkpoints are not supported")
    unknown = sorted(set(config) - set(LLAMA.defaults) - GENERIC_KEYS - LLAVA_UNUSED)
    if unknown:
        raise CheckpointError(f"{where}: unknown key(s) {', '.join(unknown)}; mmplug would drop them")
    issues: list[ConfigIssue] = []
    language = LLAMA.to_options({k: v for k, v in config.items() if k in LLAMA.defaults}, where=where, issues=issues)
    vision = tower_options(files, "model.image_tower.image_tower.", where)
    video = tower_options(files, "model.video_tower.video_tower.", where)
    select = config.get("mm_vision_select_feature", "patch")
    if select not in SELECT:
        raise CheckpointError(f"{where}: mm_vision_select_feature {select!r} is not one of {', '.join(SELECT)}")
    return {
        "vision_encoder": vision, "video_encoder": video, "projector": {"name": "mlp2x_gelu"},
        "language_model": {"name": "llama", **language}, **runtime_sections(),
        "multimodal": {"vision_feature_layer": config.get("mm_vision_select_layer", -2),
                       "image_feature_select_strategy": SELECT[select], "video_feature_select_strategy": "full"},
    }


def grow_rows(matrix: Any, embeddings: Any, rows: int) -> Any:
    """``matrix`` (V,D) extended to (rows,D); new rows drawn from N(mean, 1e-5 x covariance) of
    ``embeddings`` (V,D), with a fixed seed (as the published Video-LLaVA-7B-hf conversion)."""
    import torch

    e = embeddings.double()
    mean = e.mean(0)
    covariance = (e - mean).T @ (e - mean) / e.shape[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        dist = torch.distributions.MultivariateNormal(mean, covariance_matrix=COVARIANCE_SCALE * covariance)
        extra = dist.sample((rows - matrix.shape[0],))
    return torch.cat([matrix, extra.to(matrix.dtype)])


def check_tokens(processor: Path, multimodal: dict[str, Any]) -> None:
    """The processor's tokenizer must give <image>, <video>, <pad> the ids the model now uses."""
    import json

    wanted = {"<image>": multimodal["image_token_id"], "<video>": multimodal["video_token_id"],
              "<pad>": multimodal["pad_token_id"]}
    found: dict[str, int] = {}
    for name in ("tokenizer_config.json", "tokenizer.json"):
        path = processor / name
        if not path.is_file():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for token_id, entry in (data.get("added_tokens_decoder") or {}).items():
            found.setdefault(entry.get("content"), int(token_id))
        for entry in data.get("added_tokens") or []:
            found.setdefault(entry.get("content"), int(entry["id"]))
    wrong = {t: (i, found.get(t)) for t, i in wanted.items() if found.get(t) != i}
    if wrong:
        raise CheckpointError(f"{processor}: the tokenizer does not match the converted vocabulary: " + ", ".join(
            f"{t} should be id {i} (found {f})" for t, (i, f) in wrong.items()))
