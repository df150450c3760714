"""One image, one set of pixels: the same file through every path that reads images gives the
same RGB uint8 pixels (mmplug.core.media.image.rgb_pixels), checked against a reference
written from the file's own contract (EXIF rules, 16-bit scaling) or transformers' conversion."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmplug.core.generation.media import load_image, load_video
from mmplug.core.training.data import MediaCache
from mmplug.plugins.image.clip import ClipImageProcessor
from mmplug.plugins.image.convert import to_rgb_array
from mmplug.plugins.image.options import ClipImageOptions
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import UniformSampler

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "video"))
import media_factory as mf  # noqa: E402

#: EXIF orientation -> how the stored picture becomes the displayed one (EXIF 2.3, tag 0x0112).
EXIF_RULES = {2: np.fliplr, 3: lambda a: np.rot90(a, 2), 6: lambda a: np.rot90(a, -1), 8: lambda a: np.rot90(a, 1)}


def _pattern(width: int = 96, height: int = 72) -> np.ndarray:
    """An asymmetric picture: the numbered frame pattern plus a colour gradient."""
    image = mf.frame_pattern(5, width, height).astype(np.int32)
    image[..., 2] = np.linspace(0, 255, width)[None, :].astype(np.int32)
    return image.astype(np.uint8)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("one-conversion")
    out: dict[str, Path] = {}
    rgb = _pattern()
    rng = np.random.default_rng(0)
    gray16 = (np.linspace(0, 65535, 96)[None, :] + rng.integers(-300, 300, (72, 96))).clip(0, 65535)
    Image.fromarray(gray16.astype(np.uint16)).save(root / "gray16.png")
    out["gray16.png"] = root / "gray16.png"
    for orientation in EXIF_RULES:
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.fromarray(rgb).save(root / f"exif{orientation}.jpg", exif=exif.tobytes(), quality=95)
        out[f"exif{orientation}.jpg"] = root / f"exif{orientation}.jpg"
    palette = Image.fromarray(rgb).quantize(16)
    palette.save(root / "palette_alpha.png", transparency=3)
    rgba = np.concatenate([rgb, np.linspace(0, 255, 96, dtype=np.uint8)[None, :, None].repeat(72, 0)], -1)
    Image.fromarray(rgba, "RGBA").save(root / "rgba.png")
    Image.fromarray(rgb).convert("CMYK").save(root / "cmyk.jpg", quality=95)
    out.update({name: root / name for name in ("palette_alpha.png", "rgba.png", "cmyk.jpg")})
    return out


def _decord_still(path):
    pytest.importorskip("decord")
    from mmplug.plugins.video.decord_decoder import DecordDecoder

    return DecordDecoder().read(path, [0]).frames[0]


#: Every path an image file takes to become the processor's uint8 input.
PATHS = {
    "image": lambda p: to_rgb_array(load_image(p)),
    "still as video": lambda p: PyAVDecoder().read(p, [0]).frames[0],
    "still as sampled video": lambda p: load_video(p, PyAVDecoder(), UniformSampler(1))[0],
    "still through decord": _decord_still,
    "frames as image files": lambda p: load_video([p], None, None)[0],
    "training manifest": lambda p: MediaCache(None).image(p),
}


def _transformers_rgb(path: Path) -> np.ndarray:
    image_utils = pytest.importorskip("transformers.image_utils")
    return np.asarray(image_utils.load_image(str(path)))


def expected_pixels(name: str, path: Path) -> np.ndarray:
    """The right pixels, not computed by mmplug."""
    if name == "gray16.png":  # 0..65535 -> 0..255 is v * 255 / 65535 = v / 257, rounded
        values = np.asarray(Image.open(path)).astype(np.float64)
        return np.repeat(np.rint(values / 257).astype(np.uint8)[..., None], 3, axis=-1)
    if name.startswith("exif"):
        stored = np.asarray(Image.open(path).convert("RGB"))  # the picture as stored, not turned
        return np.ascontiguousarray(EXIF_RULES[int(name[4])](stored))
    return _transformers_rgb(path)  # palette, alpha, CMYK: transformers' load_image + convert("RGB")


@pytest.mark.parametrize("path_name", sorted(PATHS))
@pytest.mark.parametrize("name", ["gray16.png", "exif2.jpg", "exif3.jpg", "exif6.jpg", "exif8.jpg",
                                  "palette_alpha.png", "rgba.png", "cmyk.jpg"])
def test_every_path_gives_the_same_pixels(files, name, path_name):
    got = PATHS[path_name](files[name])
    expected = expected_pixels(name, files[name])
    assert got.dtype == np.uint8 and got.shape == expected.shape, (got.shape, expected.shape)
    np.testing.assert_array_equal(got, expected)


def test_the_exif_references_agree_with_transformers(files):
    for orientation in EXIF_RULES:
        name = f"exif{orientation}.jpg"
        np.testing.assert_array_equal(expected_pixels(name, files[name]), _transformers_rgb(files[name]))


def test_sixteen_bit_is_scaled_where_a_plain_convert_clips_to_white(files):
    clipped = np.asarray(Image.open(files["gray16.png"]).convert("RGB"))
    assert (clipped == 255).mean() > 0.9  # what the still and training paths gave before
    scaled = PATHS["training manifest"](files["gray16.png"])
    assert scaled[:, 0].mean() < 10 and scaled[:, -1].mean() > 245  # the gradient survives


@pytest.mark.parametrize("name", ["gray16.png", "exif6.jpg", "exif2.jpg", "palette_alpha.png", "rgba.png",
                                  "cmyk.jpg"])
def test_processor_pixels_agree_between_image_and_video_and_with_transformers(files, name):
    transformers = pytest.importorskip("transformers")
    ours = ClipImageProcessor(ClipImageOptions(fast_frames=False))
    as_image = ours([load_image(files[name])])[0]
    as_video = ours(PyAVDecoder().read(files[name], [0]).frames)[0]
    assert torch.equal(as_image, as_video)
    reference = transformers.VideoLlavaImageProcessor()  # the published CLIP settings are its defaults
    if name == "gray16.png":  # transformers clips 16-bit to white: compare with the same picture in 8 bits
        source = Image.fromarray(expected_pixels(name, files[name])[..., 0], "L")
    else:
        source = transformers.image_utils.load_image(str(files[name]))
    expected = reference(images=[source], return_tensors="pt")["pixel_values_images"][0]
    assert (as_image - expected).abs().max().item() <= 1e-5
