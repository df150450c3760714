"""core/media: sources, sniffing, geometry (decoder-agnostic pieces)."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

from mmplug.core.errors import MediaError
from mmplug.core.media import as_source, display_size, normalise_rotation, rotate, shortest_edge_size, sniff


def test_path_source_has_a_content_key(media):
    source = as_source(media["mp4"], "test")
    stat = os.stat(media["mp4"])
    assert source.key == (os.path.realpath(media["mp4"]), stat.st_size, stat.st_mtime_ns)
    assert source.head(4) == media["mp4"].read_bytes()[:4]


def test_stream_source_reopens_from_its_start():
    stream = io.BytesIO(b"xxhello world")
    stream.seek(2)
    source = as_source(stream, "test")
    for _ in range(2):
        with source.open() as handle:
            assert handle.read(5) == b"hello"
            handle.seek(0)
            assert handle.tell() == 0 and handle.read(2) == b"he"
    assert not stream.closed and source.key is None


def test_unseekable_stream_is_read_once():
    class Pipe(io.RawIOBase):
        def __init__(self):
            self.data = io.BytesIO(b"\x00\x00\x00\x18ftypmp42")

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    source = as_source(Pipe(), "test")
    assert source.data == b"\x00\x00\x00\x18ftypmp42"


@pytest.mark.parametrize("bad,words", [
    ("definitely/missing.mp4", "no such file"),
    (b"", "empty"),
    (io.BytesIO(b""), "nothing left to read"),
    (3.5, "cannot read a float"),
])
def test_bad_sources(bad, words):
    with pytest.raises(MediaError, match=words) as caught:
        as_source(bad, "somebackend")
    assert caught.value.backend == "somebackend"


@pytest.mark.parametrize("head,kind", [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image"),
    (b"GIF89a\x40\x00", "gif"),
    (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image"),
    (b"\x00\x00\x00\x20ftypisom", "other"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81", "other"),
    (b"Hello, this is text\n", "text"),
    ("caf\u00e9 ol\u00e9 \u00e9t\u00e9".encode()[:-1], "text"),
])
def test_sniff(head, kind):
    assert sniff(head) == kind


@pytest.mark.parametrize("degrees,expected", [(0, 0), (-90, -90), (270, -90), (90, 90), (-180, 180),
                                              (180, 180), (-270, 90), (89.6, 90), (360, 0)])
def test_normalise_rotation(degrees, expected):
    assert normalise_rotation(degrees) == expected


def test_rotate_is_counter_clockwise():
    image = np.arange(6).reshape(2, 3, 1)  # [[0 1 2], [3 4 5]]
    assert rotate(image, 90)[..., 0].tolist() == [[2, 5], [1, 4], [0, 3]]
    assert rotate(image, -90)[..., 0].tolist() == [[3, 0], [4, 1], [5, 2]]
    assert rotate(image, 180)[..., 0].tolist() == [[5, 4, 3], [2, 1, 0]]
    assert display_size(640, 360, -90) == (360, 640) and display_size(640, 360, 180) == (640, 360)


@pytest.mark.parametrize("h,w,edge,expected", [(360, 640, 224, (224, 398)), (640, 360, 224, (398, 224)),
                                               (224, 224, 224, (224, 224)), (1810, 2048, 336, (336, 380))])
def test_shortest_edge_size(h, w, edge, expected):
    assert shortest_edge_size(h, w, edge) == expected


def test_core_media_imports_nothing_heavy():
    import subprocess
    import sys

    code = "import sys, mmplug.core.media; print(sorted(m for m in ('av', 'numpy', 'torch', 'PIL') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
