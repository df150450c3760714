"""Hostile checkpoint files: corrupt safetensors headers (refused by mmplug's reader exactly when the
official ``safetensors`` reader refuses them), index files naming shards outside the checkpoint,
tensors stored in a dtype of another kind, and stray tensors that no layout knows."""
from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from mmplug.core.builder import build_model
from mmplug.core.checkpoint import config_from_pretrained, load_weights
from mmplug.core.checkpoint.files import list_weight_files, peek_keys
from mmplug.core.checkpoint.safetensors_io import SafetensorsShard
from mmplug.core.errors import CheckpointError
from mmplug.core.resolve import resolve_config

from .helpers import write_layout

DATA = bytes(range(32))


def raw_file(path: Path, header: dict | bytes, data: bytes, *, pad: bool = True) -> Path:
    """A safetensors file written by hand: u64 length | header | data."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode("utf-8")
    if pad:
        text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)
    return path


def f32(begin: int, end: int, shape: list = (2,), dtype: str = "F32") -> dict:
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}


def official(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(path, "pt") as handle:
        return {key: handle.get_tensor(key) for key in handle.keys()}


def ours(path: Path) -> dict[str, torch.Tensor]:
    shard = SafetensorsShard(path)
    return dict(shard.read(shard.keys()))


#: name -> (header, data, tensor the error must name or None). Each is refused by both readers.
CORRUPT = {
    "negative offset (header bytes read as weights)": ({"a": f32(-8, 0), "b": f32(0, 8)}, DATA[:8], None),
    "overlapping tensors": ({"a": f32(0, 8), "b": f32(4, 12)}, DATA[:12], "b"),
    "gap between tensors": ({"a": f32(0, 8), "b": f32(12, 20)}, DATA[:20], "b"),
    "gap before the first tensor": ({"a": f32(4, 12)}, DATA[:12], "a"),
    "end before begin": ({"a": f32(8, 0)}, DATA[:8], "a"),
    "two tensors on the same bytes": ({"a": f32(0, 8), "b": f32(0, 8)}, DATA[:8], "b"),
    "bytes after the last tensor": ({"a": f32(0, 8)}, DATA[:16], None),
    "range not matching the shape": ({"a": f32(0, 7, (2,))}, DATA[:7], "a"),
    "partial element (unaligned size)": ({"a": f32(0, 6, (2,))}, DATA[:6], "a"),
    "float in shape": ({"a": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]}}, DATA[:8], "a"),
    "string in shape": ({"a": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}, DATA[:8], "a"),
    "negative shape": ({"a": {"dtype": "F32", "shape": [-1, -2], "data_offsets": [0, 8]}}, DATA[:8], "a"),
    "boolean in shape": ({"a": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, DATA[:8], "a"),
    "three offsets": ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8, 8]}}, DATA[:8], "a"),
    "unknown dtype": ({"a": f32(0, 8, dtype="f32")}, DATA[:8], "a"),
    "missing data_offsets": ({"a": {"dtype": "F32", "shape": [2]}}, DATA[:8], "a"),
    "non-string metadata": ({"__metadata__": {"format": 1}, "a": f32(0, 8)}, DATA[:8], None),
    "header not an object": ([1, 2], b"", None),
    "shape overflowing": ({"a": {"dtype": "F32", "shape": [2 ** 62, 8], "data_offsets": [0, 0]}}, b"", "a"),
    "truncated data": ({"a": f32(0, 16, (4,))}, DATA[:8], None),
    "repeated key": (b'{"a":' + json.dumps(f32(0, 8)).encode() + b',"a":' + json.dumps(f32(8, 16)).encode() + b"}",
                     DATA[:16], "a"),
    "non-UTF-8 header": (b'{"\xff":' + json.dumps(f32(0, 8)).encode() + b"}", DATA[:8], None),
    "NUL padding after the JSON": (json.dumps({"a": f32(0, 8)}).encode() + b"\0" * 8, DATA[:8], None),
}


@pytest.mark.parametrize("case", list(CORRUPT))
def test_corrupt_headers_are_refused_by_both_readers(tmp_path, case):
    header, data, tensor = CORRUPT[case]
    path = raw_file(tmp_path / "model.safetensors", header, data)
    with pytest.raises(SafetensorError):
        official(path)
    with pytest.raises(CheckpointError) as error:
        ours(path)
    assert str(path) in str(error.value)
    if tensor is not None:
        assert repr(tensor) in str(error.value)
    with pytest.raises(CheckpointError):  # the torch-free header peek refuses it too
        peek_keys(tmp_path)


def test_short_and_oversized_files_are_refused_by_both(tmp_path):
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 200 * 1024 * 1024) + b"{}")
    for path in (short, huge):
        with pytest.raises(SafetensorError):
            official(path)
        with pytest.raises(CheckpointError, match="not a safetensors file"):
            ours(path)


#: Valid files with unusual layouts: accepted by both readers, with the same values.
VALID = {
    "listed out of offset order": ({"b": f32(8, 16), "a": f32(0, 8)}, DATA[:16]),
    "offsets not multiples of the element size": ({"u": f32(0, 1, (1,), "U8"), "a": f32(1, 9)}, DATA[:9]),
    "header not padded to 8 bytes": ({"a": f32(0, 8)}, DATA[:8]),
    "zero-size tensors sharing an offset": ({"e": f32(0, 0, (0,)), "z": f32(0, 0, (0, 3)), "a": f32(0, 8)}, DATA[:8]),
    "no tensors": ({}, b""),
    "null metadata and extra fields": ({"__metadata__": None, "a": {**f32(0, 8), "note": 1}}, DATA[:8]),
}


@pytest.mark.parametrize("case", list(VALID))
def test_unusual_valid_files_read_the_same_in_both(tmp_path, case):
    header, data = VALID[case]
    path = raw_file(tmp_path / "x.safetensors", header, data, pad=case != "header not padded to 8 bytes")
    expected, got = official(path), ours(path)
    assert set(expected) == set(got)
    for key, value in expected.items():
        assert got[key].dtype == value.dtype and torch.equal(got[key], value), key


def test_files_written_by_the_library_still_load(tmp_path):
    tensors = {"w": torch.randn(3, 5), "ids": torch.arange(4), "h": torch.randn(7).half(), "flag": torch.tensor([True])}
    save_file(tensors, tmp_path / "lib.safetensors", metadata={"format": "pt"})
    got = ours(tmp_path / "lib.safetensors")
    assert all(torch.equal(got[key], value) for key, value in tensors.items())


# ----------------------------------------------------------------------------- shard paths
@pytest.mark.parametrize("shard", ["../outside.safetensors", "OUTSIDE_ABSOLUTE", "sub/inner.safetensors",
                                   "..\\outside.safetensors", "C:outside.safetensors", "", ".."])
def test_index_may_only_name_files_in_the_checkpoint_directory(tmp_path, shard):
    outside = tmp_path / "outside.safetensors"
    save_file({"a": torch.zeros(2)}, outside)
    (tmp_path / "ckpt" / "sub").mkdir(parents=True)
    save_file({"a": torch.zeros(2)}, tmp_path / "ckpt" / "sub" / "inner.safetensors")
    name = str(outside) if shard == "OUTSIDE_ABSOLUTE" else shard
    index = tmp_path / "ckpt" / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": {"a": name}}))
    with pytest.raises(CheckpointError, match="not plain file names") as error:
        list_weight_files(tmp_path / "ckpt")
    assert str(index) in str(error.value) and repr(name) in str(error.value)


def test_index_with_plain_shard_names_loads(tmp_path):
    save_file({"a": torch.ones(2)}, tmp_path / "model-00001-of-00002.safetensors")
    save_file({"b": torch.zeros(3)}, tmp_path / "model-00002-of-00002.safetensors")
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}))
    files = list_weight_files(tmp_path)
    assert sorted(files.keys()) == ["a", "b"] and files.shape("b") == (3,)


# ----------------------------------------------------------------------------- dtypes and stray keys
@pytest.fixture
def meta_model(published, registry):
    return build_model(resolve_config(config_from_pretrained(published), registry=registry), meta=True)


def test_integer_tensor_for_a_float_weight_is_refused(published, meta_model, tmp_path):
    key = "multi_modal_projector.linear_1.weight"

    def as_int(state):
        state[key] = state[key].to(torch.int32)

    directory = write_layout(published, tmp_path / "c", "published", as_int)
    with pytest.raises(CheckpointError, match="dtype of another kind") as error:
        load_weights(meta_model, directory)
    assert "projector.linear_1.weight" in str(error.value) and "torch.int32" in str(error.value)
    assert all(t.is_meta for t in meta_model.parameters())


def test_half_precision_tensors_still_load_into_a_float32_model(published, meta_model, tmp_path):
    directory = write_layout(published, tmp_path / "c", "published",
                             lambda state: state.update({k: v.half() for k, v in state.items()}))
    model = load_weights(meta_model, directory)
    assert model.projector.linear_1.weight.dtype == torch.float32


def test_stray_tensor_with_an_unknown_prefix_is_named(published, meta_model, tmp_path):
    directory = write_layout(published, tmp_path / "c", "published",
                             lambda state: state.update({"zz_stray.weight": torch.zeros(2)}))
    with pytest.raises(CheckpointError) as error:
        load_weights(meta_model, directory)
    text = str(error.value)
    assert "zz_stray.weight" in text and "'published' layout" in text and "no place for 1 of" in text
