"""Media limits (pixels, frames, bytes): one setting, checked before the big allocation,
a MediaError naming the file on every path that opens media."""
from __future__ import annotations

import argparse
import contextlib
import io
import random

import numpy as np
import pytest
from PIL import Image, ImageFile

import media_factory as mf
from mmplug.core.cli import probe
from mmplug.core.errors import ConfigError, MediaError
from mmplug.core.generation.media import load_image, load_video
from mmplug.core.media import MediaLimits, as_source, media_limits, media_limits_set
from mmplug.core.media.image import open_image, read_rgb
from mmplug.core.training.data import MediaCache
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import AllSampler, UniformSampler


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """The issue's file: a 30000x30000 1-bit PNG of ~109 KB (900 megapixels once decoded)."""
    return mf.write_bomb_png(tmp_path_factory.mktemp("bombs") / "bomb.png", 30000, 30000)


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """12000x12000 (144 megapixels): over mmplug's default limit, under Pillow's own refusal (179 M)."""
    return mf.write_bomb_png(tmp_path_factory.mktemp("bombs") / "big.png", 12000, 12000)


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if Pillow decodes any image's pixels."""
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"Pillow decoded a {self.size} image that the limits should have refused")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def every_image_path():
    """(name, call) of every way mmplug opens an image file."""
    return [
        ("image path", lambda p: load_image(p)),
        ("video path: probe", lambda p: PyAVDecoder().probe(p)),
        ("video path: read", lambda p: PyAVDecoder().read(p, [0])),
        ("video path: load_video", lambda p: load_video(p, PyAVDecoder(), UniformSampler(1))),
        ("frames given as image files", lambda p: load_video([p], None, None)),
        ("training manifest", lambda p: MediaCache(None).image(p)),
        ("read_rgb", lambda p: read_rgb(p)),
    ]


@pytest.mark.parametrize("name,call", every_image_path(), ids=[n for n, _ in every_image_path()])
@pytest.mark.parametrize("which", ["bomb", "big"])
def test_decompression_bombs_are_media_errors_naming_the_file(request, no_decoding, name, call, which):
    path = request.getfixturevalue(which)
    with pytest.warns(Image.DecompressionBombWarning) if which == "big" else contextlib.nullcontext():
        with pytest.raises(MediaError) as caught:
            call(path)
    message = str(caught.value)
    assert str(path) in message and "media limit" in message and "refused before decoding" in message
    assert f"{MediaLimits().max_pixels:,}" in message


def test_probe_names_the_bomb_and_goes_on(bomb, media, capsys):
    code = probe.run(argparse.Namespace(files=[str(bomb), str(media["mp4"])], json=False, decoder="pyav"))
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith(f"{bomb}: NOT DECODABLE") and "media limit" in lines[0]
    assert lines[1].startswith(str(media["mp4"])) and lines[1].endswith("ok")


def test_probe_reports_an_unexpected_failure_as_that_files_result(media, capsys, monkeypatch):
    calls = []

    def buggy_probe(self, source):
        calls.append(source)
        if len(calls) == 1:
            raise ZeroDivisionError("a bug")
        return real_probe(self, source)

    real_probe = PyAVDecoder.probe
    monkeypatch.setattr(PyAVDecoder, "probe", buggy_probe)
    code = probe.run(argparse.Namespace(files=[str(media["jpg"]), str(media["mp4"])], json=False, decoder="pyav"))
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and "unexpected ZeroDivisionError: a bug" in lines[0] and lines[1].endswith("ok")


def test_the_pixel_limit_is_one_setting_with_an_exact_edge(tmp_path):
    path = tmp_path / "forty.png"
    Image.fromarray(mf.frame_pattern(2, 40, 25)).save(path)  # 1000 pixels
    with media_limits_set(max_pixels=999):
        for name, call in every_image_path():
            with pytest.raises(MediaError, match="40x25 = 1,000 pixels, more than the media limit of 999") as caught:
                call(path)
            assert str(path) in str(caught.value), name
            assert "MMPLUG_MAX_PIXELS=1000" in str(caught.value)
    with media_limits_set(max_pixels=1000):
        assert read_rgb(path).shape == (25, 40, 3)
        assert PyAVDecoder().read(path, [0]).frames.shape == (1, 25, 40, 3)


def test_video_frames_over_the_pixel_limit_are_refused_before_decoding(media, monkeypatch):
    import mmplug.plugins.video.pyav_probe as pyav_probe

    def no_decode(*args, **kwargs):
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(pyav_probe, "first_frame", no_decode)
    with media_limits_set(max_pixels=64 * 48 - 1):
        for call in (lambda d: d.probe(media["mp4"]), lambda d: d.read(media["mp4"], [0]),
                     lambda d: d.read_sampled(media["mp4"], UniformSampler(2))):
            with pytest.raises(MediaError, match="video frame is 64x48 = 3,072 pixels") as caught:
                call(PyAVDecoder())
            assert str(media["mp4"]) in str(caught.value)


def test_frames_per_read(media):
    decoder = PyAVDecoder()
    with media_limits_set(max_frames=3):
        assert decoder.read(media["mp4"], [0, 1, 2]).frames.shape[0] == 3
        for name, call in [("read", lambda: decoder.read(media["mp4"], [0, 1, 2, 3])),
                           ("sampled", lambda: decoder.read_sampled(media["mp4"], AllSampler())),
                           ("still", lambda: decoder.read(media["png"], [0, 0, 0, 0]))]:
            with pytest.raises(MediaError, match="4 frames asked for in one read, more than the media limit of 3"
                               if name != "sampled" else "12 frames asked for") as caught:
                call()
            assert "MMPLUG_MAX_FRAMES" in str(caught.value), name


def test_frames_per_read_with_decord(media):
    pytest.importorskip("decord")
    from mmplug.plugins.video.decord_decoder import DecordDecoder

    with media_limits_set(max_frames=3):
        with pytest.raises(MediaError, match="4 frames asked for") as caught:
            DecordDecoder().read(media["mp4"], [0, 1, 2, 3])
    assert caught.value.backend == "decord"


class _Pipe(io.RawIOBase):
    """A non-seekable stream that returns a few bytes per read (as pipes do)."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._data.read(min(len(buffer), 7))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_bytes_per_file_for_every_kind_of_source(media):
    data = media["png"].read_bytes()
    seeked = io.BytesIO(b"junk" + data)
    seeked.seek(4)
    sources = {"path": media["png"], "bytes": data, "file object": seeked, "pipe": _Pipe(data)}
    with media_limits_set(max_bytes=len(data) - 1):
        for kind, source in sources.items():
            with pytest.raises(MediaError, match="more than the media limit of") as caught:
                as_source(source, "test")
            assert "MMPLUG_MAX_MEDIA_BYTES" in str(caught.value), kind
        with pytest.raises(MediaError, match=f"{len(data):,} bytes"):
            PyAVDecoder().probe(media["png"])
    with media_limits_set(max_bytes=media["mp4"].stat().st_size - 1):
        with pytest.raises(MediaError, match="more than the media limit") as caught:
            PyAVDecoder().read_sampled(media["mp4"], UniformSampler(2))
        assert str(media["mp4"]) in str(caught.value)
    with media_limits_set(max_bytes=len(data)):
        seeked.seek(4)
        assert as_source(seeked, "test").start == 4
        assert as_source(_Pipe(data), "test").data == data  # read whole although each read is short
        assert read_rgb(data).shape == (48, 64, 3)


def test_environment_and_python_settings(monkeypatch, tmp_path):
    path = tmp_path / "forty.png"
    Image.fromarray(mf.frame_pattern(2, 40, 25)).save(path)
    monkeypatch.setenv("MMPLUG_MAX_PIXELS", "999")
    assert media_limits() == MediaLimits(max_pixels=999)
    with pytest.raises(MediaError, match="more than the media limit of 999"):
        load_image(path)
    with media_limits_set(max_pixels=1000):  # set from Python: wins over the environment
        assert load_image(path).size == (40, 25)
    assert media_limits().max_pixels == 999
    monkeypatch.setenv("MMPLUG_MAX_FRAMES", "many")
    with pytest.raises(ConfigError, match="MMPLUG_MAX_FRAMES: must be a positive integer, got 'many'"):
        media_limits()
    with pytest.raises(ConfigError, match="max_pixels: must be a positive integer"):
        MediaLimits(max_pixels=0)


def test_documented_defaults_are_the_real_ones():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "troubleshooting.md").read_text(encoding="utf-8")
    limits = MediaLimits()
    for variable, value in (("MMPLUG_MAX_PIXELS", limits.max_pixels), ("MMPLUG_MAX_FRAMES", limits.max_frames),
                            ("MMPLUG_MAX_MEDIA_BYTES", limits.max_bytes)):
        assert f"`{variable}`" in docs and f"{value:,}" in docs, variable


def _mutations(data: bytes, count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        out = bytearray(data)
        action = rng.random()
        if action < 0.4:
            for _ in range(rng.randint(1, 8)):
                out[rng.randrange(len(out))] = rng.randrange(256)
        elif action < 0.7:
            out = out[: rng.randrange(1, len(out))]
        else:
            at = rng.randrange(len(out))
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        yield bytes(out)


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's own notes on broken TIFF tags
@pytest.mark.parametrize("fmt,mode", [("PNG", "RGB"), ("PNG", "P"), ("JPEG", "RGB"), ("BMP", "RGB"),
                                      ("TIFF", "RGB"), ("WEBP", "RGB")])
def test_corrupt_images_only_ever_raise_media_errors(fmt, mode):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)).convert(mode).save(
        buffer, format=fmt)
    outcomes = set()
    for data in _mutations(buffer.getvalue(), 60, seed=len(fmt)):
        try:
            pixels = read_rgb(data)
        except MediaError as exc:
            assert str(exc).startswith(f"<{len(data)} bytes> [pillow]: ")
            outcomes.add("error")
        else:
            assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3
            outcomes.add("read")
    assert "error" in outcomes  # the mutations do break files


def test_open_image_leaves_a_callers_file_open(media):
    with open(media["png"], "rb") as handle:
        image = open_image(handle)
        assert image.size == (64, 48) and not handle.closed
