"""The clip image processor: reference parity, fast frame path, input kinds, HF config reading."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.plugins.image.clip import ClipImageProcessor
from mmplug.plugins.image.options import ClipImageOptions, clip_options_from_hf

from .conftest import IMAGES, PROCESSOR_DIR, VIDEOS

MODES = ("RGB", "RGBA", "L", "LA", "P", "CMYK")


def reference_images(ref, images):
    return ref(images=images, return_tensors="pt")["pixel_values_images"]


def reference_video(ref, frames):
    return ref(images=None, videos=[frames], return_tensors="pt")["pixel_values_videos"][0]


@pytest.mark.parametrize("name", IMAGES)
def test_fixture_images_match_reference_in_every_mode(fixture_images, clip, ref_image_processor, name):
    source = fixture_images[name]
    converted = [source.convert(mode) for mode in MODES]
    ours = clip(converted)
    expected = reference_images(ref_image_processor, converted)
    assert ours.shape == expected.shape == (len(MODES), 3, 224, 224) and ours.dtype == torch.float32
    assert (ours - expected).abs().max().item() <= 1e-5
    assert len({round(float(row.sum()), 2) for row in ours}) > 1  # modes really differ


@pytest.mark.parametrize("name", VIDEOS)
def test_video_frames_reference_path_and_fast_path(video_frames, clip, clip_exact, ref_image_processor, name):
    frames = video_frames[name]
    expected = reference_video(ref_image_processor, frames)
    exact = clip_exact(frames)
    assert exact.shape == expected.shape == (4, 3, 224, 224)
    assert (exact - expected).abs().max().item() <= 1e-5
    fast = clip(frames)
    diff = (fast - expected).abs()
    assert diff.max().item() <= 0.03 and diff.mean().item() <= 0.003, (diff.max(), diff.mean())


def test_numpy_pil_and_torch_inputs_agree(video_frames, clip):
    frame = video_frames["sample_demo_9.mp4"][0]
    as_pil, as_numpy, as_torch = Image.fromarray(frame), frame, torch.from_numpy(frame)
    out = clip([as_pil, as_numpy, as_torch])
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    stack = torch.from_numpy(video_frames["sample_demo_9.mp4"])
    assert torch.equal(clip(stack), clip(stack.numpy()))
    gray = frame[..., 0]
    assert torch.equal(clip([gray])[0], clip([np.stack([gray] * 3, axis=-1)])[0])
    assert torch.equal(clip([np.concatenate([frame, frame[..., :1]], -1)])[0], out[0])  # alpha dropped


def test_small_frames_are_upscaled_exactly_like_the_reference(clip, ref_image_processor):
    frames = np.random.default_rng(3).integers(0, 256, (3, 100, 150, 3), dtype=np.uint8)
    expected = reference_video(ref_image_processor, frames)
    assert (clip(frames) - expected).abs().max().item() <= 1e-5


def test_sixteen_bit_inputs_scale_to_eight_bit(fixture_images, clip, ref_image_processor):
    gray8 = np.asarray(fixture_images["extreme_ironing.jpg"].convert("L"))
    gray16 = gray8.astype(np.uint16) * 257  # exact 8 -> 16 bit widening
    expected = reference_images(ref_image_processor, [Image.fromarray(gray8, mode="L")])
    pil16 = Image.fromarray(gray16)
    assert pil16.mode.startswith("I;16")
    for image in (pil16, gray16, np.stack([gray16] * 3, axis=-1)):
        assert (clip([image]) - expected).abs().max().item() <= 1e-5


@pytest.mark.parametrize("bad, needle", [
    (np.zeros((10, 10, 3), dtype=np.float32), "dtype float32"),
    (np.zeros((3, 64, 64), dtype=np.uint8), "channels-first"),
    (np.zeros((2, 10, 10, 3), dtype=np.uint8), "frame stacks go in 'videos'"),
    ("image.png", "unsupported input type str"),
])
def test_bad_inputs_are_errors_naming_the_image(clip, bad, needle):
    with pytest.raises(ProcessorError) as info:
        clip.preprocess_image(bad, "image 3")
    assert needle in str(info.value) and "image 3" in str(info.value)


def test_crop_larger_than_image_without_resize_is_an_error():
    processor = ClipImageProcessor(ClipImageOptions(do_resize=False))
    with pytest.raises(ProcessorError, match="smaller than the 224x224 center crop"):
        processor([np.zeros((100, 300, 3), dtype=np.uint8)])
    assert processor([np.zeros((230, 300, 3), dtype=np.uint8)]).shape == (1, 3, 224, 224)


def test_options_change_the_output():
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    plain = ClipImageProcessor(ClipImageOptions(do_normalize=False))([image])
    assert 0.0 <= plain.min() and plain.max() <= 1.0
    bilinear = ClipImageProcessor(ClipImageOptions(resample="bilinear"))([image])
    assert not torch.equal(bilinear, ClipImageProcessor()([image]))
    assert ClipImageProcessor(ClipImageOptions(size=112, crop_size=112))([image]).shape == (1, 3, 112, 112)
    with pytest.raises(ValueError, match="image_std"):
        ClipImageOptions(image_std=(0.2, 0.0, 0.2))


def test_decode_size_hint_is_opt_in():
    assert ClipImageProcessor().decode_size(1810, 2048) is None
    hinted = ClipImageProcessor(ClipImageOptions(decode_oversample=2.0))
    assert hinted.decode_size(1810, 2048) == (448, 506)
    assert hinted.decode_size(360, 640) is None  # already small
    assert ClipImageProcessor(ClipImageOptions(decode_oversample=2.0, fast_frames=False)).decode_size(1810, 2048) is None


def test_hf_preprocessor_config_maps_to_options(fixtures):
    for name in ("preprocessor_config.json", "video_preprocessor_config.json"):
        config = json.loads((PROCESSOR_DIR / name).read_text())
        options = clip_options_from_hf(config, source=name)
        assert options.size == config["size"]["shortest_edge"] and options.crop_size == config["crop_size"]["height"]
        assert options.resample == "bicubic" and options.rescale_factor == config["rescale_factor"]
        assert list(options.image_mean) == config["image_mean"] and list(options.image_std) == config["image_std"]
    assert clip_options_from_hf(config, fast_frames=False).fast_frames is False


def test_hf_preprocessor_config_reports_unknown_and_unsupported_keys(fixtures):
    config = json.loads((PROCESSOR_DIR / "preprocessor_config.json").read_text())
    config.update({"do_pad": True, "resample": 1, "crop_size": {"height": 224, "width": 200},
                   "do_convert_rgb": False, "image_std": [1.0, -1.0, 1.0]})
    with pytest.raises(ConfigError) as info:
        clip_options_from_hf(config, source="preprocessor_config.json")
    paths = {issue.path for issue in info.value.issues}
    assert paths == {"do_pad", "resample", "crop_size", "do_convert_rgb"}
    assert "preprocessor_config.json" in str(info.value)
