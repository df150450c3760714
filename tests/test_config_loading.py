"""Loading configs from strangers: alias bombs refused on every path before anything is expanded,
every problem reported at once (an unknown section hides nothing), non-UTF-8 files named, and
``--set`` overrides that index lists (``stages.0.steps=6``) for pipeline and training configs."""
from __future__ import annotations

import json
import tracemalloc

import pytest
import yaml

import toy_parts
from mmplug.core.config import MAX_CONFIG_VALUES, apply_overrides, load_config, read_config_file
from mmplug.core.errors import ConfigError
from mmplug.core.resolve import resolve_config
from mmplug.core.training import load_train_config
from mmplug.plugins.text.files import read_json

#: Anything allocated while refusing a bomb (expanded, each bomb below is >= 387 M values).
PEAK_BYTES = 32 * 1024 * 1024


def billion_laughs(levels: int = 9) -> str:
    """A flow-style YAML list whose aliases expand to 9 ** levels strings."""
    anchors = ['&l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    anchors += [f"&l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "[" + ", ".join(anchors) + "]"


def merge_key_bomb(levels: int = 24) -> str:
    """Block YAML whose merge keys (<<) would copy 3 ** levels key/value pairs."""
    lines = ["m0: &m0 {a: 1, b: 2, c: 3}"]
    lines += [f"m{n}: &m{n} {{<<: [*m{n - 1}, *m{n - 1}, *m{n - 1}], k{n}: {n}}}" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def refused_quickly(call, match: str = "alias bomb") -> ConfigError:
    """The ConfigError ``call()`` raises, checked to have allocated next to nothing."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=match) as error:
            call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{peak} bytes allocated before the refusal"
    return error.value


def test_the_bombs_are_real():
    """Sanity check of the test data: PyYAML alone would build the graphs the tests refuse."""
    nested = yaml.safe_load(billion_laughs(3))
    assert len(nested[-1]) == 9 and len(nested[-1][0]) == 9 and len(nested[-1][0][0]) == 9
    merged = yaml.safe_load(merge_key_bomb(4))
    assert set(merged["m3"]) == {"a", "b", "c", "k1", "k2", "k3"}


@pytest.mark.parametrize("overrides", [None, ["runtime.device=cpu"]])
def test_alias_bomb_in_a_pipeline_file(tmp_path, toy_registry, overrides):
    path = tmp_path / "bomb.yaml"
    path.write_text("projector: {name: toy_proj, extra: " + billion_laughs() + "}\n", encoding="utf-8")
    error = refused_quickly(lambda: load_config(path, overrides))
    assert error.source == str(path) and str(MAX_CONFIG_VALUES) in str(error)
    refused_quickly(lambda: resolve_config(path, overrides))


def test_merge_key_bomb_and_recursive_alias(tmp_path):
    merged = tmp_path / "merge.yaml"
    merged.write_text(merge_key_bomb(), encoding="utf-8")
    refused_quickly(lambda: read_config_file(merged))
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("projector: &p {name: x, again: *p}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="contains itself"):
        read_config_file(recursive)


def test_alias_bomb_in_a_set_value(toy_registry):
    error = refused_quickly(lambda: load_config("toy", ["projector.extra=" + billion_laughs()]))
    assert [issue.path for issue in error.issues] == ["projector.extra"]


def test_shared_objects_from_python_and_presets_are_measured_before_copying(toy_registry):
    laughs: object = ["lol"] * 9
    for _ in range(8):
        laughs = [laughs] * 9  # 9 ** 9 strings, shared references
    config = {**toy_parts.toy_config(), "description": "x", "projector": {"name": "toy_proj", "extra": laughs}}
    refused_quickly(lambda: load_config(config))
    refused_quickly(lambda: load_config(config, ["runtime.device=cpu"]))
    refused_quickly(lambda: apply_overrides(config, {"runtime.device": "cpu"}))

    class Preset:
        def load(self):
            return config

    class Registry:
        def preset(self, name):
            return Preset()

    error = refused_quickly(lambda: load_config("bomb-preset", registry=Registry()))
    assert error.source == "preset 'bomb-preset'"


def test_alias_bomb_in_a_training_config(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("pipeline: tiny-random\ntrain_manifest: m.jsonl\noutput_dir: out\nextra: " + billion_laughs()
                    + "\nstages: [{steps: 2, lr: 0.1}]\n", encoding="utf-8")
    refused_quickly(lambda: load_train_config(path))
    refused_quickly(lambda: load_train_config(path, ["stages.0.steps=3"]))
    good = tmp_path / "good.yaml"
    good.write_text("pipeline: tiny-random\ntrain_manifest: m.jsonl\noutput_dir: out\nstages: [{steps: 2, lr: 0.1}]\n",
                    encoding="utf-8")
    refused_quickly(lambda: load_train_config(good, ["seed=" + billion_laughs()]))


def test_an_unknown_section_hides_no_other_problem(toy_registry):
    config = toy_parts.toy_config()
    config["projecter"] = {"name": "toy_proj"}
    config["tokenizer"] = {"path": "x"}  # no name
    config["projector"]["hidden_act"] = "gleu"
    config["language_model"]["hidden_size"] = "wide"
    with pytest.raises(ConfigError) as error:
        resolve_config(config)
    issues = {issue.path: issue.message for issue in error.value.issues}
    assert issues["projecter"].startswith("unknown section; did you mean 'projector'?")
    assert "tokenizer.name" in issues
    assert issues["projector.hidden_act"] == "unknown activation 'gleu'; did you mean 'gelu'?"
    assert "valid integer" in issues["language_model.hidden_size"]


def test_schema_only_loading_still_reports_schema_problems(toy_registry):
    with pytest.raises(ConfigError, match="unknown section") as error:
        load_config({**toy_parts.toy_config(), "projecter": {"name": "toy_proj"}})
    assert [issue.path for issue in error.value.issues] == ["projecter"]


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_non_utf8_config_files_are_named(tmp_path, suffix):
    path = tmp_path / f"latin1{suffix}"
    path.write_bytes('description = "caf\u00e9"\n'.encode("latin-1") if suffix == ".toml"
                     else 'description: "caf\u00e9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8 text") as error:
        load_config(path)
    assert error.value.source == str(path) and "0xe9" in str(error.value)
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_train_config(path)


def test_non_utf8_processor_file_is_named(tmp_path):
    path = tmp_path / "tokenizer_config.json"
    path.write_bytes(b'{"bos_token": "\xff"}')
    with pytest.raises(ConfigError, match="not UTF-8") as error:
        read_json(path, key="tokenizer.path")
    assert str(path) in str(error.value)


def test_utf8_with_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"description": "x"}).encode())
    assert read_config_file(path) == {"description": "x"}


# ----------------------------------------------------------------------------- indexed overrides
def test_overrides_index_lists_and_leave_the_input_alone():
    data = {"stages": [{"steps": 1, "lr": 0.1}, {"steps": 2}], "layers": [-2]}
    out = apply_overrides(data, ["stages.1.steps=6", "stages.0.train=[projector]", "layers.0=-3"])
    assert out == {"stages": [{"steps": 1, "lr": 0.1, "train": ["projector"]}, {"steps": 6}], "layers": [-3]}
    assert data == {"stages": [{"steps": 1, "lr": 0.1}, {"steps": 2}], "layers": [-2]}
    assert apply_overrides(data, {"stages.0": {"steps": 9}})["stages"][0] == {"steps": 9}


@pytest.mark.parametrize("key, message", [
    ("stages.2.steps", "'stages' is a list of 2 item(s): use an index from 0 to 1"),
    ("stages.first.steps", "not 'first'"),
    ("stages.-1.steps", "not '-1'"),
    ("stages.0.steps.x", "cannot set inside 'stages.0.steps'"),
    ("empty.0", "'empty' is an empty list"),
])
def test_bad_list_indexes_are_errors_with_the_key(key, message):
    with pytest.raises(ConfigError) as error:
        apply_overrides({"stages": [{"steps": 1}, {"steps": 2}], "empty": []}, [f"{key}=1"])
    assert error.value.issues[0].path == key and message in error.value.issues[0].message


def test_training_config_takes_indexed_overrides(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("pipeline: tiny-random\ntrain_manifest: m.jsonl\noutput_dir: out\n"
                    "stages: [{steps: 100, lr: 0.1, warmup_steps: 10}, {steps: 200, lr: 0.01}]\n", encoding="utf-8")
    config = load_train_config(path, ["stages.0.steps=6", "stages.0.warmup_steps=1", "stages.1.lr=0.5",
                                      "pipeline.language_model.num_layers=1"])
    assert [stage.steps for stage in config.stages] == [6, 200] and config.stages[1].lr == 0.5
    assert config.stages[0].warmup_steps == 1 and config.pipeline["language_model"]["num_layers"] == 1
    with pytest.raises(ConfigError, match="index from 0 to 1"):
        load_train_config(path, ["stages.5.steps=6"])


def test_pipeline_config_takes_indexed_overrides(toy_registry):
    config = apply_overrides(toy_parts.toy_config(), ["multimodal.vision_feature_layer=[-3, -1]"])
    config = load_config(config, ["multimodal.vision_feature_layer.0=-2"])
    assert config.multimodal.vision_feature_layer == [-2, -1]
