"""Hugging Face ``config.json`` vocabulary shared by every model family: the keys any
``PretrainedConfig`` may carry, and :class:`SubConfigMapping`, which a part plugin registers
(``register(..., hf_mapping="pkg.module:MAPPING")``) to say how its transformers sub-config
(e.g. ``vision_config`` of model type ``clip_vision_model``) maps onto its options.

Pure data and dict manipulation (torch-free). Defaults are read from the transformers sources,
never imported at run time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmplug.core.errors import CheckpointError, ConfigIssue

#: Keys every PretrainedConfig may carry that describe no weights (file metadata, training,
#: generation settings, task heads). Read and deliberately unused.
GENERIC_KEYS = frozenset({
    "_name_or_path", "_commit_hash", "_attn_implementation_autoset", "architectures", "model_type", "torch_dtype",
    "dtype", "transformers_version", "use_cache", "initializer_range", "initializer_factor", "attention_dropout",
    "dropout", "pretraining_tp", "bos_token_id", "eos_token_id", "pad_token_id", "sep_token_id",
    "decoder_start_token_id", "output_hidden_states", "output_attentions", "return_dict", "torchscript",
    "pruned_heads", "chunk_size_feed_forward", "is_encoder_decoder", "is_decoder", "cross_attention_hidden_size",
    "add_cross_attention", "tie_encoder_decoder", "finetuning_task", "id2label", "label2id", "num_labels",
    "task_specific_params", "problem_type", "tokenizer_class", "prefix", "tf_legacy_loss", "use_bfloat16",
    "attn_implementation", "max_length", "min_length", "do_sample", "early_stopping", "num_beams",
    "num_beam_groups", "diversity_penalty", "temperature", "top_k", "top_p", "typical_p", "repetition_penalty",
    "length_penalty", "no_repeat_ngram_size", "encoder_no_repeat_ngram_size", "bad_words_ids",
    "num_return_sequences", "output_scores", "return_dict_in_generate", "forced_bos_token_id",
    "forced_eos_token_id", "remove_invalid_values", "exponential_decay_length_penalty", "suppress_tokens",
    "begin_suppress_tokens", "projection_dim",
})
#: The HF key names of the usual layer/head counts -> mmplug option names.
COMMON_RENAMES = {"num_hidden_layers": "num_layers", "num_attention_heads": "num_heads",
                  "num_key_value_heads": "num_kv_heads"}


@dataclass(frozen=True)
class SubConfigMapping:
    """One transformers sub-config type <-> one part plugin's options.

    ``defaults``: every HF key the part reads, with transformers' default (None: unset);
    ``renamed``: HF key -> option name where they differ; ``unused``: keys read and ignored
    (they shape no weight of this part); ``same_as``: HF key -> HF key whose value it takes
    when unset (e.g. ``num_key_value_heads`` -> ``num_attention_heads``).
    """

    model_type: str
    defaults: dict[str, Any]
    renamed: dict[str, str] = field(default_factory=lambda: dict(COMMON_RENAMES))
    unused: frozenset[str] = frozenset()
    same_as: dict[str, str] = field(default_factory=dict)

    def to_options(self, section: dict[str, Any], *, where: str, issues: list[ConfigIssue],
                   defaults: dict[str, Any] | None = None) -> dict[str, Any]:
        """HF sub-config -> option dict (renamed keys, ``defaults`` or the mapping's own filled
        in, unknown keys reported as issues under ``where``)."""
        table = self.defaults if defaults is None else defaults
        values = {key: section.get(key, default) for key, default in table.items()}
        for key, other in self.same_as.items():
            if values.get(key) is None:
                values[key] = values.get(other)
        for key in section:
            if key not in table and key not in GENERIC_KEYS and key not in self.unused:
                issues.append(ConfigIssue(f"{where}.{key}", "unknown to mmplug's translation; this setting would be "
                                                            "dropped, so the checkpoint is refused (remove the key if "
                                                            "it has no effect, or add support for it)"))
        return {self.renamed.get(key, key): value for key, value in values.items() if value is not None}

    def from_options(self, options: Any, *, where: str) -> dict[str, Any]:
        """A part's validated options -> its HF sub-config (``model_type`` first). An option the
        sub-config cannot hold is an error unless it keeps its default."""
        back = {ours: theirs for theirs, ours in self.renamed.items()}
        out: dict[str, Any] = {"model_type": self.model_type}
        fields = type(options).model_fields
        for key, value in options.model_dump(mode="json").items():
            theirs = back.get(key, key)
            if theirs in self.defaults:
                out[theirs] = value
            elif value != fields[key].default:
                raise CheckpointError(f"{where}.{key}={value!r} cannot be written to a transformers "
                                      f"{self.model_type} config (it has no such setting)")
        for key, other in self.same_as.items():
            if out.get(key) is None:
                out[key] = out.get(other)
        return out


def part_mapping(registry: Any, kind: Any, model_type: str, *, where: str) -> tuple[str, SubConfigMapping]:
    """(plugin name, mapping) of the installed part of ``kind`` that reads ``model_type``
    sub-configs; an error lists the model types installed parts can read."""
    found, known = [], []
    for spec in registry.parts(kind):
        mapping = spec.load_hf_mapping()
        if mapping is None:
            continue
        known.append(mapping.model_type)
        if mapping.model_type == model_type:
            found.append((spec, mapping))
    if len(found) > 1:
        raise CheckpointError(f"{where}: model type {model_type!r} is read by several {kind.value} plugins ("
                              + ", ".join(f"{s.name} from {s.provenance.describe()}" for s, _ in found)
                              + "); uninstall one")
    if not found:
        raise CheckpointError(f"{where}: model type {model_type!r} is not supported; installed "
                              f"{kind.value} plugins read {', '.join(sorted(known)) or 'none'}")
    return found[0][0].name, found[0][1]


def mapping_of(part: Any, *, where: str) -> SubConfigMapping:
    """The mapping of a resolved part's plugin; an error when it has none."""
    mapping = part.spec.load_hf_mapping()
    if mapping is None:
        raise CheckpointError(f"{where} plugin {part.spec.name!r} has no transformers equivalent (it registers "
                              "no hf_mapping); save the pipeline as an mmplug config instead")
    return mapping


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; errors name the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CheckpointError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data
