"""The architecture holds: core names no concrete plugin, attention options reach the backend,
parts never fall back to a sibling, and a new model family plugs in without touching core."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

import toy_parts
from mmplug.core.builder import build_part
from mmplug.core.checkpoint import config_from_pretrained
from mmplug.core.checkpoint.hf_mapping import SubConfigMapping
from mmplug.core.context import BuildContext
from mmplug.core.errors import ConfigError
from mmplug.core.interfaces import AttentionBackend, Availability
from mmplug.core.interfaces.checkpoint import CheckpointFormat, ConfigTranslation
from mmplug.core.options import PluginOptions
from mmplug.core.resolve import resolve_config
from mmplug.registry import Registry, discover, use_registry

CORE = Path(__file__).resolve().parents[1] / "core"
#: String constants in core that equal a plugin name but mean something else (reviewed).
NOT_PLUGIN_NAMES = {("cli/probe.py", "fps"): "the VideoInfo field of a probe record",
                    ("training/evaluation.py", "all"): "the task name of samples without one"}


def _docstrings(tree: ast.AST) -> set[int]:
    kinds = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {id(node.body[0].value) for node in ast.walk(tree) if isinstance(node, kinds) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def test_core_imports_no_plugin_and_names_none_outside_docstrings():
    registry = discover()
    builtin = {spec.name for spec in registry.parts() if spec.provenance.distribution == "mmplug"}
    builtin |= {preset.name for preset in registry.presets()}
    assert {"clip", "llama", "sdpa", "pyav", "published", "mlp2x_gelu"} <= builtin  # the check has teeth
    imports, names = [], []
    for path in sorted(CORE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs, where = _docstrings(tree), path.relative_to(CORE).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports += [f"{where}:{node.lineno} {a.name}" for a in node.names if a.name.startswith("mmplug.plugins")]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mmplug.plugins"):
                imports.append(f"{where}:{node.lineno} {node.module}")
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                  and node.value in builtin and (where, node.value) not in NOT_PLUGIN_NAMES):
                names.append(f"{where}:{node.lineno} {node.value!r}")
    assert imports == [] and names == []


# ---------------------------------------------------------------------- attention resolved once
class WindowOptions(PluginOptions):
    window: int  # required: no default


class WindowAttention(AttentionBackend):
    built: list["WindowAttention"] = []

    def __init__(self, options: WindowOptions):
        self.window = options.window
        WindowAttention.built.append(self)

    def availability(self, request):
        return Availability(True)

    def __call__(self, q, k, v, *, causal, mask=None, sliding_window=None, scale=None):
        raise AssertionError("not run in these tests")


@pytest.fixture
def window_registry(toy_registry):
    WindowAttention.built.clear()
    toy_registry.register("attention", "windowed", lambda options, context: WindowAttention(options),
                          options=WindowOptions)
    return toy_registry


def test_a_backend_with_a_required_option_configured_in_yaml_receives_it(window_registry, tmp_path):
    config = toy_parts.toy_config()
    config["attention"] = {"name": "windowed", "window": 7}
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    resolved = resolve_config(path)
    part = resolved.parts["language_model"]
    assert (part.attention, part.attention_options.window) == ("windowed", 7)
    seen = {}

    def spy(options, context):
        seen["context"] = context
        return toy_parts.build_text(options, context)

    window_registry.register("language_model", "toy_lm", spy, options=toy_parts.ToyTextOptions, override=True)
    build_part(resolve_config(path), "language_model")
    assert seen["context"].attention.window == 7
    assert len(WindowAttention.built) == 2  # one per resolve_config: checked and used, never rebuilt


def test_a_missing_required_backend_option_is_a_config_error_with_its_path(window_registry):
    config = toy_parts.toy_config()
    config["attention"] = {"name": "windowed"}
    with pytest.raises(ConfigError) as error:
        resolve_config(config)
    assert "attention.window" in {issue.path for issue in error.value.issues}


def test_a_part_may_name_a_backend_section_of_its_own(window_registry):
    config = toy_parts.toy_config()
    config["language_model"]["attention"] = {"name": "windowed", "window": 3}
    resolved = resolve_config(config)
    assert resolved.parts["language_model"].attention_backend.window == 3
    assert resolved.parts["vision_encoder"].attention == "toy_attention"


def test_parts_built_alone_do_not_fall_back_to_a_sibling_backend():
    registry = discover()
    options = {"hidden_size": 8, "intermediate_size": 16, "num_layers": 1, "num_heads": 2, "image_size": 28,
               "patch_size": 14}
    with pytest.raises(ConfigError, match="vision_encoder.attention"):
        registry.build("vision_encoder", "clip", options)
    backend = registry.build("attention", "eager", {})
    tower = registry.build("vision_encoder", "clip", options, BuildContext("vision_encoder", attention=backend))
    assert tower.encoder.layers[0].self_attn.backend is backend


# ---------------------------------------------------------------------- a new family, no core change
TOY_TEXT = SubConfigMapping("toy_text_model", {"hidden_size": 32, "vocab_size": 100, "num_hidden_layers": 1,
                                               "num_attention_heads": 4})


class ToyTranslation(ConfigTranslation):
    model_type = "toy_family"
    default_layout = "toy_layout"

    def to_pipeline(self, config, directory, *, registry):
        from mmplug.core.checkpoint.hf_mapping import part_mapping
        from mmplug.registry import Kind

        name, mapping = part_mapping(registry, Kind.LANGUAGE_MODEL, config["text_config"]["model_type"],
                                     where="text_config")
        pipeline = toy_parts.toy_config()
        pipeline["language_model"] = {"name": name, **mapping.to_options(config["text_config"], where="text_config",
                                                                         issues=[])}
        return pipeline

    def from_pipeline(self, resolved, *, dtype):
        return {"model_type": self.model_type}


class ToyLayout(CheckpointFormat):
    name, translation = "toy_layout", ToyTranslation()

    def matches(self, keys, config):
        return False

    def to_model_key(self, key):
        return key

    def from_model_key(self, key):
        return key


def test_a_new_family_and_part_mapping_plug_in_through_the_registry(tmp_path):
    registry = Registry()
    assert registry.add_plugin(toy_parts), registry.failures
    registry.register("language_model", "toy_lm", toy_parts.build_text, options=toy_parts.ToyTextOptions,
                      override=True, hf_mapping=TOY_TEXT)
    registry.register("checkpoint_format", "toy_layout", lambda options, context: ToyLayout())
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "toy_family", "text_config": {
        "model_type": "toy_text_model", "hidden_size": 48, "num_hidden_layers": 3}}), encoding="utf-8")
    with use_registry(registry):
        data = config_from_pretrained(tmp_path)
        resolved = resolve_config(data)
    assert data["language_model"] == {"name": "toy_lm", "hidden_size": 48, "vocab_size": 100, "num_layers": 3,
                                      "num_heads": 4}
    assert resolved.text.hidden_size == 48


def test_an_unknown_model_type_lists_the_installed_families(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "nobody"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="'video_llava'") as error:
        config_from_pretrained(tmp_path, registry=discover())
    assert "'nobody' is not supported" in str(error.value)
