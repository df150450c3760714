"""Still images (JPEG, PNG, BMP, TIFF, WebP) as one-frame videos, read with Pillow.

Pixels are exactly what ``PIL.Image.open(f).convert("RGB")`` gives after the EXIF
orientation is applied (the way image processors load images), so an image
reads the same whether it is passed as an image or as a video.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mmplug.core.interfaces.video import DecodedFrames, VideoInfo
from mmplug.core.media.guard import media_errors
from mmplug.core.media.source import Source

#: Our interpolation names -> Pillow resampling filters.
_RESAMPLE = {"area": "BOX", "bilinear": "BILINEAR", "fast_bilinear": "BILINEAR", "bicubic": "BICUBIC",
             "lanczos": "LANCZOS", "point": "NEAREST"}
#: EXIF orientation -> counter-clockwise display rotation (mirrored variants keep their turn).
_EXIF_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: -90, 7: -90, 8: 90}
_ORIENTATION_TAG = 0x0112


def _open(source: Source, backend: str):
    from PIL import Image, UnidentifiedImageError

    with media_errors(source, backend, "opening the image", (OSError, ValueError, UnidentifiedImageError)):
        handle = source.open()
        image = Image.open(handle)
        image.load()
    return image


def probe_still(source: Source, backend: str) -> VideoInfo:
    """A still image is a one-frame video: fps 0, duration 0, display size after EXIF rotation."""
    image = _open(source, backend)
    orientation = image.getexif().get(_ORIENTATION_TAG, 1)
    rotation = _EXIF_ROTATION.get(orientation, 0)
    width, height = image.size
    if rotation in (90, -90):
        width, height = height, width
    return VideoInfo(num_frames=1, fps=0.0, duration=0.0, width=width, height=height, rotation=rotation,
                     codec=(image.format or "image").lower(), frame_count_source="image", source=source.name)


def read_still(source: Source, indices: Sequence[int], size: tuple[int, int] | None, backend: str,
               interpolation: str = "area") -> DecodedFrames:
    """The image repeated for each index (all must be 0): uint8 (T,H,W,3), timestamps 0."""
    from PIL import Image, ImageOps

    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    bad = wanted[wanted != 0]
    if bad.size:
        raise source.error(backend, f"frame index {int(bad[0])} is out of range: a still image has 1 frame (index 0)")
    image = _open(source, backend)
    with media_errors(source, backend, "converting the image"):
        rgb = ImageOps.exif_transpose(image).convert("RGB")
        if size is not None:
            rgb = rgb.resize((size[1], size[0]), resample=getattr(Image.Resampling, _RESAMPLE[interpolation]))
        pixels = np.asarray(rgb, dtype=np.uint8)
    frames = np.broadcast_to(pixels, (len(wanted),) + pixels.shape).copy()
    return DecodedFrames(frames=frames, timestamps=np.zeros(len(wanted)), indices=wanted)
