"""Shared fixtures: the reference data, our parts, and the transformers reference (test-only)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fixture_paths import FIXTURES, MEDIA, PROCESSOR_DIR

VIDEOS = ("sample_demo_1.mp4", "sample_demo_3.mp4", "sample_demo_9.mp4", "demo.mp4")
IMAGES = ("extreme_ironing.jpg", "sample_img_22.png")


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def registry():
    from mmplug.registry import discover

    reg = discover()
    assert not [f for f in reg.failures if f.plugin in ("text", "image")], reg.failures
    return reg


@pytest.fixture(scope="session")
def tokenizer(fixtures, registry):
    return registry.build("tokenizer", "hf_tokenizers", {"path": str(PROCESSOR_DIR)})


@pytest.fixture(scope="session")
def template(fixtures, registry):
    return registry.build("chat_template", "jinja", {"path": str(PROCESSOR_DIR)})


@pytest.fixture(scope="session")
def clip(registry):
    return registry.build("image_processor", "clip", {})


@pytest.fixture(scope="session")
def clip_exact(registry):
    return registry.build("image_processor", "clip", {"fast_frames": False})


@pytest.fixture(scope="session")
def transformers_quiet():
    transformers = pytest.importorskip("transformers", reason="transformers is the test-only reference")
    transformers.logging.set_verbosity_error()
    return transformers


@pytest.fixture(scope="session")
def ref_tokenizer(fixtures, transformers_quiet):
    return transformers_quiet.AutoTokenizer.from_pretrained(str(PROCESSOR_DIR))


@pytest.fixture(scope="session")
def ref_image_processor(fixtures, transformers_quiet):
    return transformers_quiet.VideoLlavaImageProcessor.from_pretrained(str(PROCESSOR_DIR))


class _VideosThroughImageProcessor:
    """The reference processor's video processor needs torchvision; the image processor's
    ``videos=`` argument gives the same pixels in transformers 4.56.2."""

    def __init__(self, image_processor):
        self.image_processor = image_processor

    def __call__(self, videos, return_tensors=None):
        return self.image_processor(images=None, videos=videos, return_tensors=return_tensors)


@pytest.fixture(scope="session")
def ref_processor(ref_tokenizer, ref_image_processor, transformers_quiet):
    """transformers' VideoLlavaProcessor on the fixture files (assembled by hand: no torchvision here)."""
    cls = transformers_quiet.VideoLlavaProcessor
    processor = cls.__new__(cls)
    config = json.loads((PROCESSOR_DIR / "processor_config.json").read_text())
    processor.image_processor = ref_image_processor
    processor.video_processor = _VideosThroughImageProcessor(ref_image_processor)
    processor.tokenizer = ref_tokenizer
    processor.chat_template = json.loads((PROCESSOR_DIR / "chat_template.json").read_text())["chat_template"]
    processor.patch_size = config["patch_size"]
    processor.num_additional_image_tokens = config["num_additional_image_tokens"]
    processor.vision_feature_select_strategy = config["vision_feature_select_strategy"]
    processor.image_token, processor.video_token = "<image>", "<video>"
    processor.image_token_id = ref_tokenizer.convert_tokens_to_ids("<image>")
    processor.video_token_id = ref_tokenizer.convert_tokens_to_ids("<video>")
    return processor


def decode_frames(path: Path, count: int) -> np.ndarray:
    """The first ``count`` frames of a clip as (T,H,W,3) uint8, read with PyAV."""
    av = pytest.importorskip("av")
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            frames.append(frame.to_ndarray(format="rgb24"))
            if len(frames) == count:
                break
    return np.stack(frames)


@pytest.fixture(scope="session")
def video_frames(fixtures) -> dict[str, np.ndarray]:
    """4 frames of every fixture clip (demo.mp4 is 2048x1810), decoded once per session."""
    return {name: decode_frames(MEDIA / name, 4) for name in VIDEOS}


@pytest.fixture(scope="session")
def fixture_images(fixtures):
    from PIL import Image

    return {name: Image.open(MEDIA / name) for name in IMAGES}
