"""Training manifests are checked line by line when read: every problem at once, by line number,
and never a raw StopIteration / TypeError or a placeholder error at some later training step."""
from __future__ import annotations

import json

import pytest

from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.core.training.data import with_media_placeholders
from mmplug.core.training.manifest import MAX_ISSUES_SHOWN, Sample, read_manifest

Q = {"role": "user", "content": "What shape is it?"}
A = {"role": "assistant", "content": "circle"}

#: Each bad line, and words its problem must contain.
BAD_LINES = [
    ({"image": "a.png", "conversations": [{"role": "system", "content": "Be brief."}, A]}, "no user turn"),
    ({"image": "a.png", "conversations": [A]}, "no user turn"),
    ({"image": "a.png", "conversations": [{"role": "user", "content": 42}, A]},
     "conversations[0].content must be a string or a list of parts, got int"),
    ({"image": "a.png", "conversations": [Q, {"role": "assistant", "content": None}]},
     "conversations[1].content must be a string or a list of parts, got NoneType"),
    ({"image": "a.png", "conversations": [{"role": "user", "content": {"text": "hi"}}, A]},
     "conversations[0].content must be a string or a list of parts, got dict"),
    ({"image": "a.png", "conversations": [{"role": "user", "content": ["hi"]}, A]},
     "conversations[0].content[0] must be {'type': one of ['text', 'image', 'video']"),
    ({"image": "a.png", "conversations": [{"role": "user", "content": [{"type": "text", "text": 3}]}, A]},
     "conversations[0].content[0] is a text part without a string 'text'"),
    ({"image": "a.png", "conversations": [{"role": "user", "content": "<image>\nWhat shape?"}, A]},
     "2 <image> placeholder(s) for 1 image(s)"),
    ({"conversations": [{"role": "user", "content": "<video> What moves?"}, A]},
     "1 <video> placeholder(s) for 0 video(s)"),
    ({"image": "a.png", "conversations": [{"role": "user", "content": [{"type": "text", "text": "What?"}]}, A]},
     "0 <image> placeholder(s) for 1 image(s): give one {'type': 'image'} part"),
    ({"image": ["a.png", "a.png"], "conversations": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Same?"}]}, A]},
     "1 <image> placeholder(s) for 2 image(s)"),
    ({"image": "", "conversations": [Q, A]}, "'image' must be a path string"),
    ({"video": "missing.mp4", "conversations": [Q, A]}, "media file not found"),
]


def _write(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "c.mp4").write_bytes(b"x")
    return tmp_path


def test_every_bad_line_is_reported_at_once_with_its_number(folder):
    good = {"image": "a.png", "conversations": [Q, A]}
    path = _write(folder / "m.jsonl", [good] + [record for record, _ in BAD_LINES] + [good])
    with pytest.raises(ConfigError) as caught:
        read_manifest(path)
    issues = caught.value.issues
    by_line = {}
    for issue in issues:
        by_line.setdefault(issue.path, []).append(issue.message)
    assert sorted(by_line) == sorted(f"line {n}" for n in range(2, 2 + len(BAD_LINES)))  # not 1, not the last
    for number, (_, words) in enumerate(BAD_LINES, start=2):
        assert any(words in message for message in by_line[f"line {number}"]), (number, by_line[f"line {number}"])
    assert str(path) in str(caught.value)


def test_one_line_with_several_problems_lists_them_all(folder):
    record = {"images": ["a.png"], "video": "gone.mp4", "conversations": [{"role": "user", "content": 1}, A]}
    with pytest.raises(ConfigError) as caught:
        read_manifest(_write(folder / "m.jsonl", [record]))
    messages = [issue.message for issue in caught.value.issues]
    assert len(messages) == 3 and {issue.path for issue in caught.value.issues} == {"line 1"}
    assert any("use 'video' / 'image'" in m for m in messages)
    assert any("media file not found" in m and "gone.mp4" in m for m in messages)
    assert any("conversations[0].content" in m for m in messages)


@pytest.mark.parametrize("record", [
    {"image": "a.png", "conversations": [Q, A]},  # plain text: the part is added for the image
    {"image": "a.png", "conversations": [{"role": "user", "content": [{"type": "image"},
                                                                      {"type": "text", "text": "What?"}]}, A]},
    {"video": "c.mp4", "image": "a.png", "conversations": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "video"}, {"type": "text", "text": "What moves?"}]},
        {"role": "assistant", "content": "a circle"},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "And here?"}]}, A]},
    {"conversations": [Q, {"role": "assistant", "content": [{"type": "text", "text": "circle"}]}]},
])
def test_good_lines_pass_and_train_as_checked(folder, record):
    [sample] = read_manifest(_write(folder / "m.jsonl", [record]))
    turns = with_media_placeholders(sample)
    assert sample.line == 1 and sample.manifest == str(folder / "m.jsonl")
    parts = [p.get("type") for t in turns if isinstance(t["content"], list) for p in t["content"]]
    text = "".join(p.get("text", "") for t in turns if isinstance(t["content"], list) for p in t["content"])
    assert parts.count("image") + text.count("<image>") == len(sample.images)
    assert parts.count("video") + text.count("<video>") == len(sample.videos)


def test_many_problems_are_counted_beyond_those_shown(folder):
    bad = {"image": "a.png", "conversations": [A]}
    with pytest.raises(ConfigError) as caught:
        read_manifest(_write(folder / "m.jsonl", [bad] * (MAX_ISSUES_SHOWN + 7)))
    issues = caught.value.issues
    assert len(issues) == MAX_ISSUES_SHOWN + 1
    assert issues[-1].message.startswith("... and 7 more problem(s) on 7 more line(s)")


def test_a_manifest_that_is_not_utf8_names_itself(folder):
    path = folder / "m.jsonl"
    path.write_bytes(b'{"conversations": "caf\xe9"}\n')
    with pytest.raises(ConfigError, match="is not UTF-8 text") as caught:
        read_manifest(path)
    assert str(path) in str(caught.value)


def test_a_sample_built_by_hand_without_a_user_turn_names_its_line():
    sample = Sample(images=(), videos=(), conversations=(A,), line=3, manifest="hand.jsonl")
    with pytest.raises(ProcessorError, match="hand.jsonl line 3: no user turn"):
        with_media_placeholders(sample)


def test_a_batch_error_names_the_manifest_lines(tiny_data, make_pipeline):
    """Samples built by hand (past the reader's checks) still fail naming their lines, not a batch index."""
    from mmplug.core.pipeline import Pipeline
    from mmplug.core.training.data import MediaCache, training_batch

    pipe = Pipeline.from_config(make_pipeline())
    good = read_manifest(tiny_data / "train.jsonl")[0]
    turns = ({"role": "user", "content": "<video> <video> What shape?"}, {"role": "assistant", "content": "circle"})
    bad = Sample(images=(), videos=good.videos, conversations=turns, line=7, manifest="hand.jsonl")
    with pytest.raises(ProcessorError) as caught:
        training_batch(pipe.processor, MediaCache(pipe), [good, bad])
    message = str(caught.value)
    assert "sample 1" in message and "sample 1 = hand.jsonl line 7" in message
    assert f"sample 0 = {good.manifest} line {good.line}" in message
