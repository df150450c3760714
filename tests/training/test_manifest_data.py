"""Manifest reading (errors by line), the seeded data order and training batches."""
from __future__ import annotations

import json

import numpy as np
import pytest

from mmplug.core.errors import ConfigError
from mmplug.core.training.data import DataOrder, with_media_placeholders
from mmplug.core.training.manifest import read_manifest

TURNS = [{"role": "user", "content": "What shape is it?"}, {"role": "assistant", "content": "circle"}]


def _write(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def test_manifest_resolves_media_next_to_it(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    samples = read_manifest(_write(tmp_path / "m.jsonl", [{"video": "a.mp4", "conversations": TURNS, "task": "t"}]))
    assert samples[0].videos == (tmp_path / "a.mp4",)
    assert samples[0].answer() == "circle"
    assert samples[0].meta == {"task": "t"}
    assert samples[0].line == 1


@pytest.mark.parametrize("record, message", [
    ("{not json", "line 2"),
    ({"video": "missing.mp4", "conversations": TURNS}, "media file not found"),
    ({"videos": ["a.mp4"], "conversations": TURNS}, "use 'video'"),
    ({"video": "a.mp4", "conversations": TURNS[:1]}, "last turn must be a non-empty assistant"),
    ({"video": "a.mp4", "conversations": [{"role": "robot", "content": "x"}]}, "conversations[0]"),
])
def test_manifest_errors_name_the_line(tmp_path, record, message):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = _write(tmp_path / "m.jsonl", [{"video": "a.mp4", "conversations": TURNS}, record])
    with pytest.raises(ConfigError) as error:
        read_manifest(path)
    assert message in str(error.value)
    assert "line 2" in str(error.value)
    assert str(path) in str(error.value)


def test_data_order_is_seeded_and_resumable():
    whole = DataOrder(10, seed=4).take(25)
    first = DataOrder(10, seed=4)
    part = first.take(13)
    rest = DataOrder(10, seed=4, epoch=first.epoch, position=first.position).take(12)
    assert part + rest == whole
    assert sorted(whole[:10]) == list(range(10)) and sorted(whole[10:20]) == list(range(10))
    assert whole[:10] != whole[10:20]  # a fresh permutation per epoch
    assert DataOrder(10, seed=5).take(10) != whole[:10]


def test_media_placeholders_go_to_the_first_user_turn(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    sample = read_manifest(_write(tmp_path / "m.jsonl", [{"image": "a.png", "conversations": TURNS}]))[0]
    turns = with_media_placeholders(sample)
    assert [part["type"] for part in turns[0]["content"]] == ["image", "text"]
    assert turns[1] == TURNS[1]


def test_training_batch_learns_only_the_answer_and_eos(tiny_data, make_pipeline):
    from mmplug.core.pipeline import Pipeline
    from mmplug.core.training.data import MediaCache, training_batch

    pipe = Pipeline.from_config(make_pipeline())
    samples = read_manifest(tiny_data / "train.jsonl")[:3]
    batch = training_batch(pipe.processor, MediaCache(pipe), samples)
    tok = pipe.processor.tokenizer
    for row, sample in zip(batch.labels, samples):
        learned = [int(t) for t in row if t != -100]
        assert learned == tok.encode(sample.answer(), add_special_tokens=False) + [tok.eos_token_id]
    assert tuple(batch.pixel_values_videos.shape) == (3, 4, 3, 64, 64)  # 3 clips, 4 sampled frames
    assert np.isfinite(batch.pixel_values_videos.numpy()).all()


def test_grouped_order_batches_samples_of_one_kind_once_per_epoch():
    groups = ["clip"] * 13 + ["image"] * 7  # e.g. media_group keys
    order = DataOrder(20, seed=3, groups=groups, batch_size=4)
    batches = [order.take(4) for _ in range(7)]  # clips 4+4+4+1, images 4+3: 6 batches per epoch
    epoch = [i for batch in batches[:6] for i in batch]
    assert sorted(epoch) == list(range(20))  # every sample once per epoch
    assert all(len({groups[i] for i in batch}) == 1 for batch in batches)  # never a mixed batch
    assert sorted(len(batch) for batch in batches[:6]) == [1, 3, 4, 4, 4, 4]
    assert order.epoch == 1 and len(batches[6]) in (1, 3, 4)
    # resumable: the same positions give the same batches
    again = DataOrder(20, seed=3, groups=groups, batch_size=4)
    again.take(4), again.take(4)
    resumed = DataOrder(20, seed=3, epoch=again.epoch, position=again.position, groups=groups, batch_size=4)
    assert [resumed.take(4) for _ in range(5)] == batches[2:7]
    with pytest.raises(ValueError, match="groups has 3 keys for 20 samples"):
        DataOrder(20, seed=3, groups=["a"] * 3)


def test_media_group_keys_by_media_and_turns(tmp_path):
    from mmplug.core.training.data import media_group

    (tmp_path / "a.png").write_bytes(b"x")
    sample = read_manifest(_write(tmp_path / "m.jsonl", [{"image": "a.png", "conversations": TURNS}]))[0]
    assert media_group(sample) == (0, 1, len(TURNS))
