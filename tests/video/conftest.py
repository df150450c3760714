"""Fixtures of the video tests: odd media written once per session, the real clips of tests/fixtures."""
from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import media_factory as mf  # noqa: E402

from fixture_paths import MEDIA  # noqa: E402


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> dict[str, Path]:
    """Name -> path of small generated files, good and bad."""
    root = tmp_path_factory.mktemp("media")
    files: dict[str, Path] = {}

    def add(name: str, path: Path) -> None:
        files[name] = path

    add("mp4", mf.write_video(root / "clip.mp4", 12))
    add("gop", mf.write_video(root / "gop.mp4", 40, gop=8, options={"bf": "2"}))
    add("one", mf.write_video(root / "one.mp4", 1))
    add("three", mf.write_video(root / "three.mp4", 3))
    add("webm", mf.write_video(root / "clip.webm", 10, codec="libvpx-vp9", options={"deadline": "realtime",
                                                                                       "cpu-used": "8"}))
    add("mkv", mf.write_video(root / "clip.mkv", 10))
    add("rotated", mf.write_video(root / "rotated.mp4", 4, rotation=-90))
    add("portrait", mf.write_video(root / "portrait.mp4", 4, size=(48, 64)))
    tb = Fraction(1, 1000)
    add("vfr", mf.write_video(root / "vfr.mp4", 8, time_base=tb, pts=[0, 40, 80, 300, 340, 900, 940, 1000],
                              options={"bf": "0"}))
    add("gif", mf.write_video(root / "anim.gif", 5, codec="gif"))
    add("audio_video", mf.write_video(root / "with_audio.mp4", 5, audio=True))
    add("audio_only", mf.write_audio_only(root / "sound.wav"))
    add("jpg", mf.write_image(root / "still.jpg"))
    add("png", mf.write_image(root / "still.png"))
    add("exif", mf.write_image(root / "exif6.jpg", exif_orientation=6))
    add("gop_nob", mf.write_video(root / "gop_nob.mp4", 40, gop=8, options={"bf": "0"}))
    for name, b_frames in (("cut_data", "2"), ("cut_data_nob", "0")):
        faststart = mf.write_video(root / f"{name}-full.mp4", 30, options={"bf": b_frames},
                                   container_options={"movflags": "faststart"})
        data = faststart.read_bytes()
        (root / f"{name}.mp4").write_bytes(data[: len(data) * 2 // 3])
        add(name, root / f"{name}.mp4")
    (root / "cut_header.mp4").write_bytes(files["mp4"].read_bytes()[:600])
    add("cut_header", root / "cut_header.mp4")
    (root / "empty.mp4").write_bytes(b"")
    add("empty", root / "empty.mp4")
    (root / "notes.mp4").write_text("These are my notes about the trip.\nNot a video at all.\n")
    add("text", root / "notes.mp4")
    (root / "folder.mp4").mkdir()
    add("directory", root / "folder.mp4")
    add("missing", root / "does-not-exist.mp4")
    return files


@pytest.fixture(scope="session")
def clips() -> Path:
    """The real clips of tests/fixtures/media."""
    return MEDIA


@pytest.fixture
def pyav():
    from mmplug.plugins.video.pyav_decoder import PyAVDecoder

    return PyAVDecoder()
