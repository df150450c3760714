"""The user-facing pipeline: a model, its processor and its media readers, built from a config
or loaded from a checkpoint directory / Hub name."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Sequence

from mmplug.core.builder import build_model, build_part, build_processor
from mmplug.core.resolve import ResolvedPipeline, resolve_config


class Pipeline:
    """``model`` (a MultimodalModel), ``processor``, ``resolved`` (the checked config: its parts,
    ``resolved.config`` the pipeline config itself) and, when the config names them,
    ``video_decoder`` and ``frame_sampler``."""

    def __init__(self, model: Any, processor: Any, resolved: ResolvedPipeline, *, source: Path | None = None):
        self.model = model
        self.processor = processor
        self.resolved = resolved
        self.source = source
        parts = resolved.parts
        self.video_decoder = build_part(resolved, "video_decoder") if "video_decoder" in parts else None
        self.frame_sampler = build_part(resolved, "frame_sampler") if "frame_sampler" in parts else None

    @classmethod
    def from_config(
        cls,
        config: Any,
        overrides: Any = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        registry: Any = None,
        allow_code: bool = False,
    ) -> "Pipeline":
        """A pipeline with randomly initialised weights from a config file, preset name, dict
        or PipelineConfig (``overrides``: ``["section.key=value", ...]``)."""
        resolved = resolve_config(config, overrides, registry=registry, device=device, dtype=dtype,
                                  allow_code=allow_code)
        model = build_model(resolved, device=device, dtype=dtype)
        model.eval()
        processor = build_processor(resolved) if "tokenizer" in resolved.parts else None
        return cls(model, processor, resolved)

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike[str],
        *,
        device: str | None = None,
        dtype: str | None = None,
        revision: str | None = None,
        overrides: Any = None,
        registry: Any = None,
        **load_options: Any,
    ) -> "Pipeline":
        """Load a checkpoint: a local directory or a Hub repo id (needs ``mmplug[hub]``).

        ``config.json`` becomes a validated pipeline config; weights are read from
        safetensors straight into a model built on the meta device. ``load_options`` go to
        :func:`mmplug.core.checkpoint.load_weights` (e.g. ``allow_missing=["lm_head.*"]``).
        """
        from mmplug.core import checkpoint

        directory = checkpoint.resolve_pretrained(name_or_path, revision=revision,
                                                  allow_pickle=load_options.get("allow_pickle", False))
        raw = checkpoint.config_from_pretrained(directory, registry=registry)
        resolved = resolve_config(raw, overrides, registry=registry, device=device, dtype=dtype)
        model = build_model(resolved, meta=True)
        model = checkpoint.load_weights(model, directory, device=resolved.config.runtime.device,
                                        dtype=resolved.config.runtime.dtype, registry=registry, **load_options)
        model.eval()
        processor = build_processor(resolved) if "tokenizer" in resolved.parts else None
        return cls(model, processor, resolved, source=directory)

    @property
    def device(self) -> Any:
        return next(self.model.parameters()).device

    def generate(self, prompt: str | Sequence[str], *, images: Any = None, videos: Any = None,
                 template: bool = True, errors: str = "raise", **options: Any) -> Any:
        """Answer one prompt (-> GenerationOutput) or a batch (list of prompts -> list).

        ``images``/``videos``: for one prompt, an item or a list; for a batch, one entry per
        prompt (None, an item, or a list). Items: paths, bytes, PIL images, arrays, or decoded
        frames (T,H,W,3). ``options``: :class:`~mmplug.core.generation.GenerationConfig` fields
        (max_new_tokens, do_sample, temperature, top_k, top_p, repetition_penalty, seed, stop, ...).
        ``template=False`` uses prompts as written (with their own placeholders).
        ``errors``: "raise" (a bad sample raises, named by its index) or "return" (its output has
        ``finish_reason="error"`` and ``error``; the other samples are answered).
        """
        from mmplug.core.generation import GenerationConfig
        from mmplug.core.generation.runner import generate

        self._need_processor()
        prompts = [prompt] if isinstance(prompt, str) else list(prompt)
        outputs = generate(self, prompts, images, videos, GenerationConfig(**options), template=template,
                           errors=errors)
        return outputs[0] if isinstance(prompt, str) else outputs

    def stream(self, prompt: str, *, images: Any = None, videos: Any = None, template: bool = True,
               **options: Any) -> Iterator[str]:
        """The answer to one prompt, piece by piece as tokens are generated."""
        from mmplug.core.generation import GenerationConfig
        from mmplug.core.generation.runner import stream

        self._need_processor()
        return stream(self, prompt, images, videos, GenerationConfig(**options), template=template)

    def chat(self, **options: Any) -> Any:
        """A multi-turn conversation: ``chat.send("What happens?", videos=[clip])``."""
        from mmplug.core.generation.chat import Chat

        self._need_processor()
        return Chat(self, **options)

    def _need_processor(self) -> None:
        if self.processor is None:
            from mmplug.core.errors import ConfigError, ConfigIssue

            raise ConfigError([ConfigIssue("tokenizer", "generation needs a processor: add 'tokenizer' and "
                                                        "'image_processor' sections to the pipeline config")])

    def save_pretrained(self, directory: str | os.PathLike[str], **save_options: Any) -> Path:
        """Write config.json, safetensors weights and processor files, loadable by
        :meth:`from_pretrained` and by transformers' ``VideoLlavaForConditionalGeneration``."""
        from mmplug.core import checkpoint

        return checkpoint.save_pretrained(self.model, self.resolved, Path(directory), source=self.source,
                                          registry=self.resolved.registry, **save_options)
