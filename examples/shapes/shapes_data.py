"""The synthetic *shapes* task: short clips of one moving shape and still images of 1-3 shapes,
with single-word answers (shape, colour, direction, count).

Every item is a pure function of its seed, so a split is a seed range: training uses seeds
``[0, n)``, held-out sets use seeds from ``HELD_OUT_SEED`` up (never seen in training).

    python examples/shapes/shapes_data.py --out data/shapes --train-clips 2400 --train-images 1200

writes ``train/``, ``test/`` media and ``train.jsonl`` / ``test.jsonl`` manifests
(``{"video": "train/c000001.mp4", "conversations": [...], "task": "direction", "seed": 1}``).
"""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE = 64  # frame side in pixels
CLIP_FRAMES, CLIP_FPS = 16, 8
SHAPES = ("circle", "square", "triangle")
COLOURS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 230),
           "yellow": (235, 215, 40), "purple": (150, 50, 200)}
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
QUESTIONS = {
    "shape": ("What shape is it?", "Which shape is shown?"),
    "colour": ("What colour is the shape?", "What color is the shape?"),
    "direction": ("Which way does the shape move?", "In which direction does the shape move?"),
    "count": ("How many shapes are there?", "How many shapes are in the image?"),
    "place": ("In which direction is the shape?",),  # tower pretraining only: which half, across and down
}
HELD_OUT_SEED = 1_000_000  # test seeds start here; training seeds stay below it
DEMO_SEEDS = (2_000_001, 2_000_002)  # the clips shipped in examples/media (never trained on)
CLIP_RADIUS = (9.0, 13.0)  # a clip's shape: 18-26 px across
CLIP_TRAVEL = (28.0, 36.0)  # pixels a clip's shape moves (more than its width)
IMAGE_RADIUS = (6.0, 10.0)  # counting images' shapes (small, so that three fit apart)
IMAGE_SEED_OFFSET = 500_000  # images of a split use seeds offset from its clips
STILL_SEED_OFFSET = 300_000  # single-shape stills of a split use seeds offset from its clips


@dataclass(frozen=True)
class Item:
    """One generated clip (frames (T,H,W,3) uint8) or image (frames (1,H,W,3)) and its answers."""

    frames: np.ndarray
    answers: dict[str, str]
    seed: int
    centres: tuple[tuple[float, float], ...] = ()  # a clip's shape centre (x, y) in each drawn frame

    @property
    def is_video(self) -> bool:
        return self.frames.shape[0] > 1


def _background(rng: np.random.Generator) -> np.ndarray:
    """(H,W,3) float: a plain grey, or grey with per-pixel noise."""
    level = rng.uniform(60, 200)
    base = np.full((SIZE, SIZE, 3), level, dtype=np.float32)
    if rng.random() < 0.5:
        base += rng.normal(0, 18, size=base.shape).astype(np.float32)
    return base


def _draw(frame: np.ndarray, shape: str, colour: str, cx: float, cy: float, radius: float) -> np.ndarray:
    """Paint one filled shape centred at (cx, cy) onto a float (H,W,3) frame."""
    mask = Image.new("L", (SIZE, SIZE), 0)
    pen = ImageDraw.Draw(mask)
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if shape == "circle":
        pen.ellipse(box, fill=255)
    elif shape == "square":
        pen.rectangle(box, fill=255)
    else:
        pen.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=255)
    alpha = (np.asarray(mask, dtype=np.float32) / 255.0)[..., None]
    return frame * (1 - alpha) + np.asarray(COLOURS[colour], dtype=np.float32) * alpha


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def make_clip(seed: int, frames: range | None = None) -> Item:
    """A clip of CLIP_FRAMES frames: one shape crossing the frame in one of four directions
    (``frames``: draw only these frame indices; the clip's content does not depend on them)."""
    rng = np.random.default_rng([seed, 1])
    shape, colour = rng.choice(SHAPES), rng.choice(list(COLOURS))
    direction = rng.choice(list(DIRECTIONS))
    radius = rng.uniform(*CLIP_RADIUS)
    travel = rng.uniform(*CLIP_TRAVEL)
    dx, dy = DIRECTIONS[direction]
    low, high = radius + 1, SIZE - radius - 1
    # start so that the whole path stays inside the frame
    along = rng.uniform(low, high - travel)
    across = rng.uniform(low, high)
    start = along if dx + dy > 0 else along + travel
    background = _background(rng)
    drawn, centres = [], []
    for t in range(CLIP_FRAMES) if frames is None else frames:
        pos = start + (dx + dy) * travel * t / (CLIP_FRAMES - 1)
        cx, cy = (pos, across) if dx else (across, pos)
        drawn.append(_to_uint8(_draw(background.copy(), shape, colour, cx, cy, radius)))
        centres.append((float(cx), float(cy)))
    answers = {"shape": str(shape), "colour": str(colour), "direction": str(direction)}
    return Item(np.stack(drawn), answers, seed, tuple(centres))


def make_image(seed: int) -> Item:
    """A still image with 1-3 non-overlapping shapes (one shape: its kind and colour are asked too)."""
    rng = np.random.default_rng([seed, 2])
    count = int(rng.integers(1, 4))
    frame = _background(rng)
    placed: list[tuple[float, float, float]] = []
    kinds = []
    while len(placed) < count:
        radius = rng.uniform(*IMAGE_RADIUS)
        cx, cy = rng.uniform(radius + 1, SIZE - radius - 1, size=2)
        # squares and triangles reach radius * sqrt(2) from their centre: keep those circles 2 px apart
        if all(np.hypot(cx - x, cy - y) > 1.42 * (radius + r) + 2 for x, y, r in placed):
            shape, colour = str(rng.choice(SHAPES)), str(rng.choice(list(COLOURS)))
            frame = _draw(frame, shape, colour, cx, cy, radius)
            placed.append((cx, cy, radius))
            kinds.append((shape, colour))
    answers = {"count": str(count)}
    if count == 1:
        answers.update(shape=kinds[0][0], colour=kinds[0][1])
    return Item(_to_uint8(frame)[None], answers, seed)


def make_still(seed: int, place: bool = False) -> Item:
    """One frame of a clip as a still image: a single shape whose kind and colour are asked.
    Stills are cheap (one frame instead of a clip's frames), so they carry most shape lessons.

    ``place``: also answer which half of the frame the shape is in, across and down (e.g.
    ``"left down"``), so that tower pretraining keeps where things are, which direction needs.
    """
    frame = int(np.random.default_rng([seed, 5]).integers(CLIP_FRAMES))
    clip = make_clip(seed, frames=range(frame, frame + 1))
    answers = {"shape": clip.answers["shape"], "colour": clip.answers["colour"]}
    if place:
        cx, cy = clip.centres[0]
        answers["place"] = f"{'left' if cx < SIZE / 2 else 'right'} {'up' if cy < SIZE / 2 else 'down'}"
    return Item(clip.frames, answers, seed)


def write_video(frames: np.ndarray, path: Path, fps: int = CLIP_FPS) -> None:
    """frames (T,H,W,3) uint8 -> an h264 (yuv420p) mp4 at ``path``."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": "12"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def conversation(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def manifest_lines(item: Item, media: str, rng: np.random.Generator, tasks: list[str] | None = None) -> list[dict]:
    """One manifest line per question asked about ``item`` (media path relative to the manifest)."""
    key = "video" if item.is_video else "image"
    lines = []
    for task in tasks or list(item.answers):
        question = QUESTIONS[task][int(rng.integers(len(QUESTIONS[task])))]
        lines.append({key: media, "conversations": conversation(question, item.answers[task]),
                      "task": task, "seed": item.seed})
    return lines


def group_turns(lines: list[dict], seed: int) -> list[dict]:
    """One line per media item holding all its questions as a multi-turn chat, in a seeded random
    order (each clip is encoded once per step for three answers instead of one)."""
    rng = np.random.default_rng([seed, 4])
    groups: dict[str, list[dict]] = {}
    for line in lines:
        groups.setdefault(line.get("video") or line["image"], []).append(line)
    out = []
    for media, group in groups.items():
        order = [group[i] for i in rng.permutation(len(group))]
        key = "video" if "video" in group[0] else "image"
        out.append({key: media, "conversations": [turn for line in order for turn in line["conversations"]],
                    "task": "+".join(line["task"] for line in order), "seed": group[0]["seed"]})
    return out


def write_split(out: Path, split: str, clips: int, images: int, first_seed: int,
                one_question: bool = False, multi_turn: bool = False, stills: int = 0,
                place: bool = False) -> Path:
    """Write ``clips`` videos, ``images`` counting images (1-3 shapes) and ``stills`` single-shape
    frames of a split plus ``<split>.jsonl``; returns the manifest.

    ``one_question``: ask one question per item, cycling through the tasks (balanced test sets).
    ``multi_turn``: one line per item with all its questions (see :func:`group_turns`).
    ``place``: stills also answer where their shape is (see :func:`make_still`).
    """
    (out / split).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([first_seed, 3])
    lines: list[dict] = []
    for i in range(clips):
        item = make_clip(first_seed + i)
        name = f"{split}/c{item.seed:07d}.mp4"
        write_video(item.frames, out / name)
        tasks = [("shape", "colour", "direction")[i % 3]] if one_question else None
        lines += manifest_lines(item, name, rng, tasks)
    for i in range(images):
        item = make_image(first_seed + IMAGE_SEED_OFFSET + i)
        name = f"{split}/i{item.seed:07d}.png"
        Image.fromarray(item.frames[0]).save(out / name)
        lines += manifest_lines(item, name, rng, ["count"] if one_question else None)
    for i in range(stills):
        item = make_still(first_seed + STILL_SEED_OFFSET + i, place=place)
        name = f"{split}/s{item.seed:07d}.png"
        Image.fromarray(item.frames[0]).save(out / name)
        lines += manifest_lines(item, name, rng, [("shape", "colour")[i % 2]] if one_question else None)
    if multi_turn:
        lines = group_turns(lines, first_seed)
    manifest = out / f"{split}.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return manifest


def write_demo_media(out: Path) -> list[Path]:
    """The README's clips: ``shapes-<n>.mp4`` from DEMO_SEEDS; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, seed in enumerate(DEMO_SEEDS, start=1):
        paths.append(out / f"shapes-{number}.mp4")
        write_video(make_clip(seed).frames, paths[-1])
    return paths


def vocabulary() -> list[str]:
    """Every word the task's prompts and answers use (for the tokenizer)."""
    words = {"USER", "ASSISTANT", ":", "?", *SHAPES, *COLOURS, *DIRECTIONS, "1", "2", "3"}
    for variants in QUESTIONS.values():
        for question in variants:
            words.update(question.replace("?", " ?").split())
    return sorted(words)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--demo", action="store_true", help="write only the README clips (examples/media) to --out")
    parser.add_argument("--train-clips", type=int, default=2400)
    parser.add_argument("--train-images", type=int, default=1200)
    parser.add_argument("--train-stills", type=int, default=0, help="single-shape stills (shape, colour)")
    parser.add_argument("--tower-stills", type=int, default=0,
                        help="single-shape stills in their own manifest, tower.jsonl (a bag_of_words stage)")
    parser.add_argument("--tower-images", type=int, default=0, help="counting images in tower.jsonl too")
    parser.add_argument("--tower-place", action="store_true",
                        help="tower stills also answer which half of the frame their shape is in")
    parser.add_argument("--multi-turn", action="store_true", help="training items as multi-turn chats")
    parser.add_argument("--test-clips", type=int, default=150, help="held-out clips (one question each)")
    parser.add_argument("--test-images", type=int, default=50, help="held-out images (counting)")
    args = parser.parse_args(argv)
    if args.demo:
        for path, seed in zip(write_demo_media(args.out), DEMO_SEEDS):
            print(path, make_clip(seed).answers)
        return
    write_split(args.out, "train", args.train_clips, args.train_images, first_seed=0, multi_turn=args.multi_turn,
                stills=args.train_stills)
    written = ["train.jsonl", "test.jsonl"]
    if args.tower_stills or args.tower_images:
        write_split(args.out, "tower", 0, args.tower_images, first_seed=0, multi_turn=args.multi_turn,
                    stills=args.tower_stills, place=args.tower_place)
        written.append("tower.jsonl")
    write_split(args.out, "test", args.test_clips, args.test_images, first_seed=HELD_OUT_SEED, one_question=True)
    print(f"wrote {', '.join(f'{args.out}/{name}' for name in written)}")


if __name__ == "__main__":
    main()
