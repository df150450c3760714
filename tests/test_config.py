"""Config: schema errors with dotted paths, plugin option errors, cross-part checks, file formats."""
from __future__ import annotations

import json

import pytest

import toy_parts
from mmplug.core.config import PipelineConfig, apply_overrides, dump_config, load_config, write_config_file
from mmplug.core.errors import ConfigError
from mmplug.core.resolve import resolve_config


def issues_of(source, **kwargs) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        resolve_config(source, **kwargs)
    return {issue.path: issue.message for issue in info.value.issues}


def test_valid_toy_config_resolves_and_wires_dimensions(toy_registry):
    resolved = resolve_config("toy")
    assert resolved.wiring["projector"] == {"in_features": 16, "out_features": 32}
    assert resolved.parts["language_model"].attention == "toy_attention"
    assert resolved.parts["vision_encoder"].attention == "toy_attention"


def test_every_error_is_reported_at_once_with_its_path(toy_registry):
    config = toy_parts.toy_config()
    config["projector"]["hidden_act"] = "gleu"
    config["vision_encoder"]["hidden_size"] = "wide"
    config["tokenizer"] = {"name": "no_such_tokenizer"}
    config["multimodal"]["image_token_id"] = 100
    issues = issues_of(config)
    assert issues["projector.hidden_act"] == "unknown activation 'gleu'; did you mean 'gelu'?"
    assert "valid integer" in issues["vision_encoder.hidden_size"]
    assert "unknown tokenizer 'no_such_tokenizer'" in issues["tokenizer.name"]
    assert "outside the language model's vocabulary (vocab_size 100)" in issues["multimodal.image_token_id"]


def test_unknown_plugin_option_is_rejected_with_suggestion(toy_registry):
    config = toy_parts.toy_config()
    config["language_model"]["num_layrs"] = 3
    assert issues_of(config)["language_model.num_layrs"] == "unknown option; did you mean 'num_layers'?"


def test_unknown_top_level_section_is_rejected(toy_registry):
    config = toy_parts.toy_config()
    config["langauge_model"] = {"name": "toy_lm"}
    issues = issues_of(config)
    assert issues["langauge_model"] == "unknown section; did you mean 'language_model'?"


def test_unknown_multimodal_key_is_rejected(toy_registry):
    config = toy_parts.toy_config()
    config["multimodal"]["vision_feature_layers"] = [-1]
    assert "multimodal.vision_feature_layers" in issues_of(config)


def test_projector_widths_must_match_the_parts(toy_registry):
    config = toy_parts.toy_config()
    config["projector"].update(in_features=17, out_features=31)
    config["multimodal"]["vision_feature_layer"] = [-2, -1]
    issues = issues_of(config)
    assert "vision_encoder hidden size 16 x 2 feature layer(s) = 32" in issues["projector.in_features"]
    assert "language_model hidden size 32" in issues["projector.out_features"]


def test_feature_layer_must_exist(toy_registry):
    config = apply_overrides(toy_parts.toy_config(), ["multimodal.vision_feature_layer=[-2, 5]"])
    issues = issues_of(config)
    assert "layer 5 does not exist" in issues["multimodal.vision_feature_layer.1"]


def test_attention_backend_that_cannot_run_names_one_that_can(toy_registry, monkeypatch):
    config = apply_overrides(toy_parts.toy_config(), {"language_model.attention": "cuda_only"})
    issues = issues_of(config)
    assert issues["language_model.attention"] == (
        "backend 'cuda_only' cannot run language_model here: needs a CUDA device; use 'toy_attention'")
    # the same config is fine where CUDA is the target device (and, pretended here, present)
    monkeypatch.setattr("mmplug.core.devices.device_problem", lambda device: None)
    assert resolve_config(config, device="cuda").parts["language_model"].attention == "cuda_only"


def test_attention_key_only_on_parts_that_run_attention(toy_registry):
    config = apply_overrides(toy_parts.toy_config(), {"projector.attention": "toy_attention"})
    assert "runs no attention" in issues_of(config)["projector.attention"]


def test_code_by_dotted_path_needs_explicit_opt_in(toy_registry):
    config = apply_overrides(toy_parts.toy_config(), {"projector.name": "toy_parts:build_projector"})
    assert "allow_code=True" in issues_of(config)["projector.name"]
    resolved = resolve_config(config, allow_code=True)
    assert resolved.parts["projector"].spec.load_factory() is toy_parts.build_projector


def test_yaml_round_trip(tmp_path, toy_registry):
    original = load_config("toy", ["language_model.num_layers=3", "runtime.dtype=bfloat16"])
    path = tmp_path / "pipeline.yaml"
    write_config_file(original, path)
    reloaded = load_config(path)
    assert reloaded == original
    assert dump_config(reloaded) == path.read_text()
    assert reloaded.language_model.options()["num_layers"] == 3


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_json_and_toml_files(tmp_path, toy_registry, suffix):
    config = toy_parts.toy_config()
    path = tmp_path / f"pipeline{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(config))
    else:
        import tomli_w

        path.write_text(tomli_w.dumps(config))
    assert load_config(path) == PipelineConfig.model_validate(config)


def test_unreadable_and_malformed_files_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.yaml"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("projector: [unclosed\n")
    with pytest.raises(ConfigError, match="(?s)bad.yaml.*cannot parse yaml"):
        load_config(bad)
    listy = tmp_path / "list.json"
    listy.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(listy)


def test_override_syntax_errors():
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides({}, ["no_equals_sign"])
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"projector": "flat"}, ["projector.name=x"])


def test_unknown_preset_suggests(toy_registry):
    with pytest.raises(Exception, match="Did you mean: 'toy'"):
        load_config("toyy")
