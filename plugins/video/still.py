"""Still images (JPEG, PNG, BMP, TIFF, WebP) as one-frame videos, read with Pillow.

Read by :func:`mmplug.core.media.image.read_rgb`: media limits checked before decoding, then
:func:`~mmplug.core.media.image.rgb_pixels`, the conversion the image
processor uses too (EXIF orientation applied, 16-bit scaled), so an image reads the same
whether it is passed as an image or as a video.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from mmplug.core.interfaces.video import DecodedFrames, VideoInfo
from mmplug.core.media.guard import media_errors
from mmplug.core.media.image import EXIF_ROTATION, exif_orientation, open_image, read_rgb
from mmplug.core.media.source import Source

#: Our interpolation names -> Pillow resampling filters.
_RESAMPLE = {"area": "BOX", "bilinear": "BILINEAR", "fast_bilinear": "BILINEAR", "bicubic": "BICUBIC",
             "lanczos": "LANCZOS", "point": "NEAREST"}


def probe_still(source: Source, backend: str) -> VideoInfo:
    """A still image is a one-frame video: fps 0, duration 0, display size after EXIF rotation."""
    image = open_image(source, backend)
    rotation = EXIF_ROTATION[exif_orientation(image)]
    width, height = image.size
    if rotation in (90, -90):
        width, height = height, width
    return VideoInfo(num_frames=1, fps=0.0, duration=0.0, width=width, height=height, rotation=rotation,
                     codec=(image.format or "image").lower(), frame_count_source="image", source=source.name)


def read_still(source: Source, indices: Sequence[int], size: tuple[int, int] | None, backend: str,
               interpolation: str = "area") -> DecodedFrames:
    """The image repeated for each index (all must be 0): uint8 (T,H,W,3), timestamps 0."""
    from PIL import Image

    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    bad = wanted[wanted != 0]
    if bad.size:
        raise source.error(backend, f"frame index {int(bad[0])} is out of range: a still image has 1 frame (index 0)")
    pixels = read_rgb(source, backend)
    if size is not None:
        with media_errors(source, backend, "resizing the image"):
            resized = Image.fromarray(pixels).resize((size[1], size[0]),
                                                     resample=getattr(Image.Resampling, _RESAMPLE[interpolation]))
            pixels = np.asarray(resized, dtype=np.uint8)
    frames = np.broadcast_to(pixels, (len(wanted),) + pixels.shape).copy()
    return DecodedFrames(frames=frames, timestamps=np.zeros(len(wanted)), indices=wanted)
