"""The synthetic shapes task: answers agree with the pixels, splits never share seeds, clips
survive h264 encoding."""
from __future__ import annotations

import json

import numpy as np
import pytest


def _mask(frame, rgb):
    """(H,W) bool: pixels painted exactly in ``rgb`` (backgrounds are grey, shapes saturated)."""
    return (frame.astype(int) == np.asarray(rgb)).all(axis=-1)


def _components(mask) -> int:
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count += 1
        stack = [(y, x)]
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            for ny, nx in ((cy + 1, cx), (cy - 1, cx), (cy, cx + 1), (cy, cx - 1)):
                if 0 <= ny < mask.shape[0] and 0 <= nx < mask.shape[1] and mask[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
    return count


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 17, 1_000_003])
def test_clip_moves_the_way_its_answer_says(shapes, seed):
    item = shapes.make_clip(seed)
    rgb = shapes.COLOURS[item.answers["colour"]]
    first, last = _mask(item.frames[0], rgb), _mask(item.frames[-1], rgb)
    assert first.sum() > 40 and last.sum() > 40
    (y0, x0), (y1, x1) = np.argwhere(first).mean(0), np.argwhere(last).mean(0)
    dx, dy = shapes.DIRECTIONS[item.answers["direction"]]
    moved = np.array([x1 - x0, y1 - y0])
    assert moved @ np.array([dx, dy]) > 20  # at least 20 px along the stated direction
    assert abs(moved @ np.array([dy, dx])) < 2  # and not across it


def test_shapes_differ_in_how_much_of_their_box_they_fill(shapes):
    fill = {}
    for seed in range(30):
        item = shapes.make_clip(seed)
        mask = _mask(item.frames[0], shapes.COLOURS[item.answers["colour"]])
        ys, xs = np.nonzero(mask)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        fill.setdefault(item.answers["shape"], []).append(mask.sum() / box)
    assert set(fill) == set(shapes.SHAPES)
    assert min(fill["square"]) > 0.95
    assert 0.65 < np.mean(fill["circle"]) < 0.9
    assert np.mean(fill["triangle"]) < 0.6


@pytest.mark.parametrize("seed", range(12))
def test_image_count_matches_the_blobs(shapes, seed):
    item = shapes.make_image(seed)
    frame = item.frames[0]
    blobs = sum(_components(_mask(frame, rgb)) for rgb in shapes.COLOURS.values())
    assert blobs == int(item.answers["count"])
    assert ("shape" in item.answers) == (blobs == 1)


def test_items_are_pure_functions_of_their_seed(shapes):
    assert np.array_equal(shapes.make_clip(5).frames, shapes.make_clip(5).frames)
    assert not np.array_equal(shapes.make_clip(5).frames, shapes.make_clip(6).frames)


def test_held_out_seeds_never_appear_in_training(tiny_data, shapes):
    def seeds(name):
        return {json.loads(line)["seed"] for line in (tiny_data / name).read_text().splitlines()}

    train, test = seeds("train.jsonl"), seeds("test.jsonl")
    assert max(train) < shapes.HELD_OUT_SEED <= min(test)
    assert not set(shapes.DEMO_SEEDS) & (train | test)
    tasks = [json.loads(line)["task"] for line in (tiny_data / "test.jsonl").read_text().splitlines()]
    assert tasks == ["shape", "colour", "direction", "count"]  # one question per held-out item, cycling


def test_clips_survive_h264(shapes, tmp_path):
    from mmplug.registry import discover

    item = shapes.make_clip(11)
    shapes.write_video(item.frames, tmp_path / "c.mp4")
    decoder = discover().build("video_decoder", "pyav", {}, None)
    info = decoder.probe(tmp_path / "c.mp4")
    frames = decoder.read(tmp_path / "c.mp4", list(range(info.num_frames))).frames
    assert frames.shape == item.frames.shape
    assert np.abs(frames.astype(int) - item.frames.astype(int)).mean() < 6


def test_multi_turn_lines_hold_every_question_of_an_item(shapes, tmp_path):
    from mmplug.core.training import read_manifest

    single = shapes.write_split(tmp_path / "one", "train", clips=3, images=2, first_seed=0)
    multi = shapes.write_split(tmp_path / "many", "train", clips=3, images=2, first_seed=0, multi_turn=True)
    by_media = {}
    for sample in read_manifest(single):
        by_media.setdefault((sample.videos + sample.images)[0].name, set()).add(
            tuple(t["content"] for t in sample.conversations))
    samples = read_manifest(multi)
    assert len(samples) == 5
    for sample in samples:
        turns = [t["content"] for t in sample.conversations]
        pairs = {tuple(turns[i:i + 2]) for i in range(0, len(turns), 2)}
        assert pairs == by_media[(sample.videos + sample.images)[0].name]


def test_stills_are_single_shape_frames_of_a_clip(shapes, tmp_path):
    from mmplug.core.training import read_manifest

    still = shapes.make_still(7)
    clip = shapes.make_clip(7)
    assert still.frames.shape == (1, shapes.SIZE, shapes.SIZE, 3) and not still.is_video
    assert any(np.array_equal(still.frames[0], frame) for frame in clip.frames)
    assert still.answers == {"shape": clip.answers["shape"], "colour": clip.answers["colour"]}
    manifest = shapes.write_split(tmp_path, "train", clips=0, images=0, first_seed=0, stills=2)
    samples = read_manifest(manifest)
    assert {s.images[0].name for s in samples} == {f"s{shapes.STILL_SEED_OFFSET:07d}.png",
                                                   f"s{shapes.STILL_SEED_OFFSET + 1:07d}.png"}
    assert {s.meta["task"] for s in samples} == {"shape", "colour"}


@pytest.mark.parametrize("seed", [0, 3, 8, 21, 40])
def test_still_place_names_the_half_the_pixels_are_in(shapes, seed):
    still = shapes.make_still(seed, place=True)
    mask = _mask(still.frames[0], shapes.COLOURS[still.answers["colour"]])
    y, x = np.argwhere(mask).mean(0)
    across, down = still.answers["place"].split()
    assert across == ("left" if x < shapes.SIZE / 2 else "right")
    assert down == ("up" if y < shapes.SIZE / 2 else "down")
    assert shapes.make_still(seed).answers == {k: v for k, v in still.answers.items() if k != "place"}


def test_place_is_asked_only_when_requested(shapes, tmp_path):
    from mmplug.core.training import read_manifest

    plain = read_manifest(shapes.write_split(tmp_path / "a", "tower", 0, 0, first_seed=0, stills=3))
    placed = read_manifest(shapes.write_split(tmp_path / "b", "tower", 0, 0, first_seed=0, stills=3, place=True))
    assert {s.meta["task"] for s in plain} == {"shape", "colour"}
    assert {s.meta["task"] for s in placed} == {"shape", "colour", "place"}
    words = set(shapes.vocabulary())  # every word of the place question and answers is in the tokenizer
    assert all(w in words for s in placed for t in s.conversations for w in t["content"].replace("?", " ?").split())
