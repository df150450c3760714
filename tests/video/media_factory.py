"""Small odd media files written with PyAV at test time (64x48, a few frames).

Every frame carries its own number (see :func:`frame_pattern`), so a test can
tell which frame it got without trusting the code under test.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 64, 48


def frame_pattern(number: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """RGB (H,W,3): grey level 8 + 6*number (numbers up to 40) on the left half, a green top row marker,
    a bar whose column moves with the frame number on the right half."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = min(8 + 6 * number, 255)
    image[:2, :] = (0, 255, 0)
    column = width // 2 + (4 * number) % (width // 2 - 4)
    image[4:, column:column + 4] = (255, 0, 0)
    return image


def write_video(path: Path, frames: int, *, codec: str = "libx264", rate: int = 10, size=(WIDTH, HEIGHT),
                gop: int | None = None, rotation: int | None = None, pts: list[int] | None = None,
                time_base: Fraction | None = None, options: dict | None = None, audio: bool = False,
                container_options: dict | None = None) -> Path:
    """Encode ``frames`` numbered frames; ``pts`` (in ``time_base``) makes a variable-rate video."""
    width, height = size
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "rgb8" if codec == "gif" else "yuv420p"
        if options:
            stream.options = dict(options)
        if gop is not None:
            stream.codec_context.gop_size = gop
        if time_base is not None:
            stream.time_base = time_base
            stream.codec_context.time_base = time_base
        if rotation is not None:
            stream.set_display_rotation(rotation)
        sound = out.add_stream("aac", rate=8000) if audio else None
        for number in range(frames):
            frame = av.VideoFrame.from_ndarray(frame_pattern(number, width, height), format="rgb24")
            if codec == "gif":
                frame = frame.reformat(format="rgb8")
            if pts is not None:
                frame.pts = pts[number]
                frame.time_base = time_base
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        if sound is not None:
            samples = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            samples.sample_rate = 8000
            samples.pts = 0
            out.mux(sound.encode(samples))
            out.mux(sound.encode(None))
    return path


def write_audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        samples = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        samples.sample_rate = 8000
        out.mux(stream.encode(samples))
        out.mux(stream.encode(None))
    return path


def write_image(path: Path, number: int = 3, exif_orientation: int | None = None) -> Path:
    from PIL import Image

    image = Image.fromarray(frame_pattern(number))
    if exif_orientation is None:
        image.save(path)
    else:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        image.save(path, exif=exif.tobytes())
    return path


def sequential_decode(path, indices) -> np.ndarray:
    """The transformers docs recipe (``read_video_pyav``): decode from the start and keep the
    frames whose running number is wanted. The reference every decoder must match."""
    wanted = sorted(set(int(i) for i in indices))
    kept = {}
    with av.open(str(path)) as container:
        container.seek(0)
        for i, frame in enumerate(container.decode(video=0)):
            if i > wanted[-1]:
                break
            if i in wanted:
                kept[i] = frame.to_ndarray(format="rgb24")
    return np.stack([kept[int(i)] for i in indices])


def frame_number(rgb: np.ndarray) -> int:
    """The number :func:`frame_pattern` painted into an (unrotated) decoded frame."""
    grey = float(np.median(rgb[8:, 2: rgb.shape[1] // 2 - 2, 0]))
    return int(round((grey - 8) / 6))


def write_vfr_video(path: Path, times_ms: list[int], *, b_frames: int = 0) -> Path:
    """A variable-frame-rate clip: frame ``i`` (numbered as :func:`frame_pattern`) shown at ``times_ms[i]``."""
    return write_video(path, len(times_ms), time_base=Fraction(1, 1000), pts=list(times_ms),
                       options={"bf": str(b_frames)})


def write_bomb_png(path: Path, width: int, height: int) -> Path:
    """A valid all-black 1-bit greyscale PNG of ``width`` x ``height``, written row by row so that the
    test never holds the image: 30000 x 30000 is ~110 KB on disk, 900 megapixels decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the packed bits
    packer = zlib.compressobj(9)
    rows_per_piece = max(1, (1 << 20) // len(row))
    data = []
    for start in range(0, height, rows_per_piece):
        data.append(packer.compress(row * min(rows_per_piece, height - start)))
    data.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale, no interlace
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"".join(data))
                     + chunk(b"IEND", b""))
    return path
