"""The streaming safetensors reader/writer agree with the safetensors library both ways."""
from __future__ import annotations

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from mmplug.core.checkpoint import safetensors_io
from mmplug.core.checkpoint.safetensors_io import SafetensorsShard, write_file


def sample() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"a": torch.randn(37, 5, generator=g), "b": torch.randn(3, generator=g).half(),
            "ids": torch.arange(7), "flag": torch.tensor([True, False]), "empty": torch.zeros(0, 4),
            "scalar": torch.tensor(2.5, dtype=torch.bfloat16)}


def test_reader_converts_in_chunks_like_the_library(tmp_path, monkeypatch):
    tensors = sample()
    save_file(tensors, tmp_path / "x.safetensors")
    monkeypatch.setattr(safetensors_io, "CHUNK", 24)  # several chunks per tensor
    shard = SafetensorsShard(tmp_path / "x.safetensors")
    read = dict(shard.read(shard.keys(), torch.bfloat16))
    for key, value in tensors.items():
        expected = value.to(torch.bfloat16) if value.is_floating_point() else value
        assert read[key].dtype == expected.dtype and torch.equal(read[key], expected), key
    assert dict(shard.read(["a"]))["a"].dtype == torch.float32


def test_writer_output_opens_in_the_library(tmp_path):
    tensors = sample()
    tensors["strided"] = torch.randn(6, 4)[:, ::2]
    write_file(tmp_path / "y.safetensors", tensors)
    with safe_open(tmp_path / "y.safetensors", "pt") as handle:
        assert handle.metadata() == {"format": "pt"}
        assert set(handle.keys()) == set(tensors)
        for key, value in tensors.items():
            assert torch.equal(handle.get_tensor(key), value), key
