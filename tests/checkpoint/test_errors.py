"""Bad checkpoints fail clearly before anything is returned: missing/unused keys (grouped by
prefix), wrong shapes, truncated files, absent shards, pickle weights, foreign configs."""
from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

from mmplug.core.builder import build_model
from mmplug.core.checkpoint import config_from_pretrained, load_weights, save_pretrained
from mmplug.core.errors import CheckpointError, ConfigError
from mmplug.core.resolve import resolve_config

from .helpers import write_layout


@pytest.fixture
def meta_model(published, registry):
    return build_model(resolve_config(config_from_pretrained(published), registry=registry), meta=True)


def all_meta(model) -> bool:
    return all(t.is_meta for t in list(model.parameters()) + list(model.buffers()))


def test_missing_keys_are_listed_by_prefix(published, meta_model, tmp_path):
    def drop(state):
        for key in [k for k in state if ".layers.1." in k and k.startswith("language_model.")]:
            del state[key]
        del state["image_tower.vision_model.post_layernorm.bias"]

    directory = write_layout(published, tmp_path / "c", "published", drop)
    with pytest.raises(CheckpointError) as error:
        load_weights(meta_model, directory)
    text = str(error.value)
    assert "missing" in text and "language_model.* (9)" in text and "vision_encoder.* (1)" in text
    assert "language_model.layers.1.mlp.down_proj.weight" in text
    assert all_meta(meta_model)


def test_unused_keys_are_errors_unless_allowed(published, meta_model, tmp_path):
    def extra(state):
        state["image_tower.vision_model.extra.weight"] = torch.zeros(2)
        state["mystery.weight"] = torch.zeros(2)

    directory = write_layout(published, tmp_path / "c", "published", extra)
    with pytest.raises(CheckpointError, match="format|no place") as error:
        load_weights(meta_model, directory, layout="published")
    assert "mystery.weight" in str(error.value) and "image_tower.vision_model.extra.weight" in str(error.value)
    assert all_meta(meta_model)
    model = load_weights(meta_model, directory, layout="published",
                         allow_unused=["mystery.*", "vision_encoder.extra.*"])
    assert not any(p.is_meta for p in model.parameters())


def test_unrecognised_layout_names_the_installed_formats(published, meta_model, tmp_path):
    directory = write_layout(published, tmp_path / "c", "published", lambda s: s.update(mystery=torch.zeros(1)))
    with pytest.raises(CheckpointError, match="no installed checkpoint format.*published"):
        load_weights(meta_model, directory)


def test_wrong_shape_names_the_parameter_and_both_shapes(published, meta_model, tmp_path):
    def shrink(state):
        state["multi_modal_projector.linear_2.weight"] = torch.zeros(64, 63)

    directory = write_layout(published, tmp_path / "c", "published", shrink)
    with pytest.raises(CheckpointError) as error:
        load_weights(meta_model, directory)
    assert "projector.linear_2.weight" in str(error.value)
    assert "(64, 63)" in str(error.value) and "(64, 64)" in str(error.value)
    assert all_meta(meta_model)


def test_truncated_file_is_reported(published, meta_model, tmp_path):
    directory = write_layout(published, tmp_path / "c", "published")
    path = directory / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-1000])
    with pytest.raises(CheckpointError, match="truncated") as error:
        load_weights(meta_model, directory)
    assert "model.safetensors" in str(error.value)
    assert all_meta(meta_model)


def test_index_naming_an_absent_shard(published, meta_model, registry, tmp_path):
    model = load_weights(meta_model, published)
    resolved = resolve_config(config_from_pretrained(published), registry=registry)
    out = save_pretrained(model, resolved, tmp_path / "sharded", max_shard_size="200KB")
    shard = sorted(out.glob("model-*.safetensors"))[1]
    shard.unlink()
    fresh = build_model(resolved, meta=True)
    with pytest.raises(CheckpointError, match="absent") as error:
        load_weights(fresh, out)
    assert shard.name in str(error.value)
    assert all_meta(fresh)


def test_pickle_is_refused_with_the_way_out_then_loaded_on_request(published, meta_model, tmp_path):
    directory = tmp_path / "pickle"
    directory.mkdir()
    torch.save(load_file(published / "model.safetensors"), directory / "pytorch_model.bin")
    shutil.copyfile(published / "config.json", directory / "config.json")
    with pytest.raises(CheckpointError, match="mmplug convert.*--allow-pickle"):
        load_weights(meta_model, directory)
    model = load_weights(meta_model, directory, allow_pickle=True)
    reference = load_file(published / "model.safetensors")
    assert torch.equal(model.projector.linear_1.weight, reference["multi_modal_projector.linear_1.weight"])


def test_allowed_missing_weights_are_initialised_not_left_on_meta(published, meta_model, tmp_path):
    directory = write_layout(published, tmp_path / "c", "published",
                             lambda s: s.pop("language_model.lm_head.weight"))
    model = load_weights(meta_model, directory, allow_missing=["language_model.lm_head.*"])
    assert not model.language_model.lm_head.weight.is_meta


def test_unknown_text_model_type_names_the_file_and_key(published, tmp_path):
    directory = write_layout(published, tmp_path / "c", "published")
    config = json.loads((directory / "config.json").read_text())
    config["text_config"]["model_type"] = "gpt2"
    config["surprise"] = 1
    (directory / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError) as error:
        config_from_pretrained(directory)
    paths = {issue.path for issue in error.value.issues}
    assert paths == {"text_config.model_type", "surprise"}
    assert "config.json" in str(error.value) and "gpt2" in str(error.value)


def test_directory_without_weights_or_config(tmp_path, meta_model):
    with pytest.raises(CheckpointError, match="no config.json"):
        config_from_pretrained(tmp_path)
    with pytest.raises(CheckpointError, match="holds no weights"):
        load_weights(meta_model, tmp_path)
