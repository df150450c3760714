"""Hub resolution with a local stand-in for huggingface_hub (no network here)."""
from __future__ import annotations

import shutil
import sys
import types

import pytest

from mmplug.core.checkpoint import resolve_pretrained
from mmplug.core.errors import CheckpointError
from mmplug.core.pipeline import Pipeline


def fake_hub(monkeypatch, behaviour):
    module = types.ModuleType("huggingface_hub")
    calls = []

    def snapshot_download(**kwargs):
        calls.append(kwargs)
        return behaviour(**kwargs)

    module.snapshot_download = snapshot_download
    monkeypatch.setitem(sys.modules, "huggingface_hub", module)
    return calls


def test_local_directory_is_returned_as_is(tmp_path):
    assert resolve_pretrained(tmp_path) == tmp_path


def test_repo_id_downloads_only_what_is_needed(monkeypatch, published, registry, tmp_path):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(published, snapshot)
    calls = fake_hub(monkeypatch, lambda **_: str(snapshot))
    pipe = Pipeline.from_pretrained("LanguageBind/Video-LLaVA-7B-hf", revision="main", registry=registry)
    assert pipe.source == snapshot and not any(p.is_meta for p in pipe.model.parameters())
    (call,) = calls
    assert call["repo_id"] == "LanguageBind/Video-LLaVA-7B-hf" and call["revision"] == "main"
    assert "*.safetensors" in call["allow_patterns"] and "*.json" in call["allow_patterns"]
    assert "*.bin" not in call["allow_patterns"]


def test_offline_or_unknown_repo_is_one_clear_error(monkeypatch):
    def offline(**_):
        raise OSError("We couldn't connect to 'https://huggingface.co'")

    fake_hub(monkeypatch, offline)
    with pytest.raises(CheckpointError) as error:
        resolve_pretrained("owner/missing-model")
    text = str(error.value)
    assert "'owner/missing-model'" in text and "couldn't connect" in text and "local directory" in text


def test_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(CheckpointError, match=r"owner/model.*mmplug\[hub\]"):
        resolve_pretrained("owner/model")


def test_a_missing_local_path_is_not_sent_to_the_hub(monkeypatch, tmp_path):
    calls = fake_hub(monkeypatch, lambda **_: None)
    with pytest.raises(CheckpointError, match="no such directory"):
        resolve_pretrained(tmp_path / "nope" / "deeper")
    assert calls == []
