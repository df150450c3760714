"""Builder: nothing is built when the config is wrong; dimensions are wired from declared facts."""
from __future__ import annotations

import pytest

import toy_parts
from mmplug.core.builder import build_model_parts, build_part, count_parameters
from mmplug.core.config import apply_overrides
from mmplug.core.conformance import check_attention_backend, check_language_model, check_projector
from mmplug.core.conformance import check_vision_encoder
from mmplug.core.errors import ConfigError
from mmplug.core.resolve import resolve_config


def test_dimension_mismatch_is_reported_before_anything_is_built(toy_registry):
    config = apply_overrides(toy_parts.toy_config(), {"projector.out_features": 64})
    with pytest.raises(ConfigError, match="projector.out_features"):
        resolve_config(config)  # the check fails here, so no part can be built from this config
    assert toy_parts.BUILT == []


def test_parts_are_built_with_wired_dimensions_on_meta(toy_registry):
    resolved = resolve_config(apply_overrides(toy_parts.toy_config(), ["multimodal.vision_feature_layer=[-3,-1]"]))
    parts = build_model_parts(resolved, device="meta")
    assert toy_parts.BUILT == ["vision", "projector", "text"]
    projector = parts["projector"]
    assert (projector.in_features, projector.out_features) == (32, 32)
    assert all(p.is_meta for p in projector.parameters())
    assert count_parameters(projector) == 32 * 32 + 32


def test_dtype_is_applied(toy_registry):
    parts = build_model_parts(resolve_config("toy"), dtype="bfloat16")
    assert {p.dtype for part in parts.values() for p in part.parameters()} == {pytest.importorskip("torch").bfloat16}


def test_attention_backend_reaches_the_factory(toy_registry):
    from mmplug.registry import Kind

    seen = {}

    def spy(options, context):
        seen["context"] = context
        return toy_parts.build_text(options, context)

    toy_registry.register(Kind.LANGUAGE_MODEL, "toy_lm", spy, options=toy_parts.ToyTextOptions, override=True)
    resolved = resolve_config("toy")
    build_part(resolved, "language_model")
    context = seen["context"]
    assert context.attention is resolved.parts["language_model"].attention_backend
    assert isinstance(context.attention, toy_parts.ToyAttention)
    assert context.section == "language_model" and context.device == "cpu" and context.pipeline is resolved


def test_missing_model_section_is_reported(toy_registry):
    config = toy_parts.toy_config()
    del config["projector"]
    with pytest.raises(ConfigError, match="projector: required to build a model"):
        build_model_parts(resolve_config(config))


def test_conformance_helpers_accept_conforming_parts(toy_registry):
    parts = build_model_parts(resolve_config("toy"))
    check_vision_encoder(parts["vision_encoder"])
    check_projector(parts["projector"])
    check_language_model(parts["language_model"])
    check_attention_backend(toy_parts.ToyAttention())


def test_conformance_helpers_reject_broken_parts(toy_registry):
    class WrongWidth(toy_parts.ToyProjector):
        def forward(self, features):
            return super().forward(features)[..., :-1]

    with pytest.raises(AssertionError, match="expected"):
        check_projector(WrongWidth(8, 4))
    with pytest.raises(AssertionError, match="must subclass Projector"):
        check_projector(object())
