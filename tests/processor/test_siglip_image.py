"""The ``siglip`` image processor: pixels identical to transformers' SiglipImageProcessor (the
slow, PIL one) on images of odd sizes and modes; the fast frame path within the clip tolerance;
preprocessor_config.json read and written."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from mmplug.core.errors import ConfigError
from mmplug.plugins.siglip.image import SiglipImageProcessor
from mmplug.plugins.siglip.options import SiglipImageOptions, siglip_options_from_hf, siglip_options_to_hf

transformers = pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")


def random_images() -> list[Image.Image]:
    """Odd shapes (wide, tall, smaller than the target, tiny) and modes, from a fixed seed."""
    rng = np.random.default_rng(0)
    shapes = [(97, 211), (300, 41), (13, 13), (64, 64)]
    pictures = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in shapes]
    return pictures + [pictures[0].convert("L"), pictures[1].convert("RGBA")]


@pytest.mark.parametrize("size", [30, 384])
def test_pixels_identical_to_transformers(size: int) -> None:
    reference = transformers.SiglipImageProcessor(size={"height": size, "width": size})
    ours = SiglipImageProcessor(SiglipImageOptions(size=size))
    for index, image in enumerate(random_images()):
        expected = reference(images=image.convert("RGB"), return_tensors="pt")["pixel_values"]
        got = ours([image])
        assert got.shape == expected.shape == (1, 3, size, size), index
        assert torch.equal(got, expected), index
    assert ours.output_size == (size, size)


def test_frame_stacks_fast_path_within_tolerance() -> None:
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (3, 120, 160, 3), dtype=np.uint8)
    exact = SiglipImageProcessor(SiglipImageOptions(size=48, fast_frames=False))(frames)
    fast = SiglipImageProcessor(SiglipImageOptions(size=48))(frames)
    reference = transformers.SiglipImageProcessor(size={"height": 48, "width": 48})
    expected = reference(images=list(frames), return_tensors="pt")["pixel_values"]
    assert torch.equal(exact, expected)
    diff = (fast - expected).abs()
    assert fast.shape == (3, 3, 48, 48)
    assert diff.max() <= 0.03 and diff.mean() <= 0.003, (diff.max(), diff.mean())  # the clip fast-path bound


def test_preprocessor_config_round_trips(tmp_path) -> None:
    saved = transformers.SiglipImageProcessor(size={"height": 384, "width": 384})
    saved.save_pretrained(tmp_path)
    import json

    config = json.loads((tmp_path / "preprocessor_config.json").read_text())
    options = siglip_options_from_hf(config)
    assert (options.size, options.image_mean, options.do_center_crop) == (384, (0.5, 0.5, 0.5), False)
    written = {**siglip_options_to_hf(options), "image_processor_type": "SiglipImageProcessor"}
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(written))
    again = transformers.SiglipImageProcessor.from_pretrained(tmp_path)
    assert (again.size, again.image_mean, again.resample) == ({"height": 384, "width": 384}, [0.5] * 3, 3)


def test_bad_preprocessor_keys_are_named() -> None:
    with pytest.raises(ConfigError) as caught:
        siglip_options_from_hf({"size": {"shortest_edge": 384}, "do_pan_and_scan": True}, source="pp.json")
    text = str(caught.value)
    assert "pp.json" in text and "size" in text and "do_pan_and_scan" in text and "siglip image processor" in text
    with pytest.raises(ValueError):
        SiglipImageOptions(do_center_crop=True)
