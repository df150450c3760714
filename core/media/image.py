"""Image files: opened within the media limits, and the one conversion to RGB uint8.

:func:`open_image` is how image files (a path, bytes or a file object) are opened: the file
size and the pixel count are checked against the media limits before anything is decoded,
and every Pillow failure is a :class:`MediaError` naming the file.

:func:`rgb_pixels` is the only place a PIL image becomes pixels. The image processor (images
given as images), still images given as videos and training manifests all call it, so the
same file gives the same pixels on every path:

- the EXIF orientation is applied (as ``transformers.image_utils.load_image`` does);
- 16-bit greyscale (``I;16*``, and ``I`` holding 0..65535) is scaled to 0..255, rounded
  (``convert("RGB")`` would clip everything above 255 to white);
- every other mode converts as Pillow's ``convert("RGB")`` does, which is what transformers'
  processors do: alpha is dropped (RGBA, LA, PA, palette transparency), palette, CMYK, YCbCr,
  1-bit and L images take their RGB colours;
- floating-point images (mode ``F``) have no defined range and are refused.

Imports numpy and Pillow (``mmplug.core.media`` itself does not import this module).
"""
from __future__ import annotations

import struct
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from mmplug.core.errors import ProcessorError
from mmplug.core.media.guard import explain, media_errors
from mmplug.core.media.limits import MediaLimits, media_limits
from mmplug.core.media.source import as_source

#: What Pillow raises for a file it cannot read (truncated, corrupt, unsupported, a bomb).
PILLOW_FAILURES: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError, IndexError, SyntaxError,
                                                    struct.error, Image.DecompressionBombError)
#: EXIF tag of the orientation; values 2..8 turn or mirror the stored picture.
ORIENTATION_TAG = 0x0112
#: EXIF orientation -> counter-clockwise display rotation in degrees (mirrored variants keep their turn).
EXIF_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: -90, 7: -90, 8: 90}
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N", "I"})


def open_image(source: Any, backend: str = "pillow", limits: MediaLimits | None = None) -> Image.Image:
    """A loaded PIL image of ``source`` (its file closed again); MediaError for anything wrong.

    The pixel count is checked after the header is read and before the pixels are decoded.
    """
    src = as_source(source, backend)  # checks the file size
    limits = limits or media_limits()
    with media_errors(src, backend, "opening the image", PILLOW_FAILURES):
        handle = src.open()
    try:
        with media_errors(src, backend, "opening the image", PILLOW_FAILURES):
            try:
                image = Image.open(handle)
            except UnidentifiedImageError as exc:
                raise src.error(backend, explain(src, "not a readable image: Pillow does not recognise its format "
                                                      "(JPEG, PNG, BMP, TIFF, WebP ... are)")) from exc
            except Image.DecompressionBombError as exc:  # larger than even Pillow's own limit
                raise src.error(backend, _pillow_refused(exc, limits)) from exc
        width, height = image.size
        limits.check_pixels(width, height, src.name, backend)
        with media_errors(src, backend, "decoding the image", PILLOW_FAILURES):
            image.load()
    finally:
        handle.close()
    return image


def rgb_pixels(image: Image.Image, what: str = "image") -> np.ndarray:
    """A PIL image of any mode -> (H,W,3) uint8 RGB as displayed (see the module docstring).

    ``what`` names the image in errors (ProcessorError), e.g. "image 2".
    """
    image = exif_upright(image)
    if image.mode == "RGB":
        return np.asarray(image)
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image).astype(np.int64)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ProcessorError(f"{what}: PIL mode {image.mode} holds values outside 0..65535 "
                                 f"({values.min()}..{values.max()}); convert it to an 8-bit RGB image first")
        return np.repeat(sixteen_to_eight(values)[..., None], 3, axis=-1)
    if image.mode == "F":
        raise ProcessorError(f"{what}: floating-point PIL images (mode F) have no defined range; "
                             "convert to 8-bit RGB first")
    try:
        return np.asarray(image.convert("RGB"))
    except ValueError as exc:
        raise ProcessorError(f"{what}: PIL mode {image.mode} cannot be converted to RGB ({exc}); "
                             "convert it to an 8-bit RGB image first") from None


def read_rgb(source: Any, backend: str = "pillow", limits: MediaLimits | None = None) -> np.ndarray:
    """An image file -> (H,W,3) uint8: :func:`open_image` then :func:`rgb_pixels`; MediaError naming it."""
    src = as_source(source, backend)
    image = open_image(src, backend, limits)
    try:
        return rgb_pixels(image, src.name)
    except ProcessorError as exc:
        raise src.error(backend, str(exc).removeprefix(f"{src.name}: ")) from None


def exif_upright(image: Image.Image) -> Image.Image:
    """``image`` turned and mirrored as its EXIF orientation says (itself when there is nothing to do)."""
    if exif_orientation(image) == 1:
        return image
    return ImageOps.exif_transpose(image)


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation of ``image`` (1, upright, when it has none or an invalid one)."""
    orientation = image.getexif().get(ORIENTATION_TAG, 1)
    return orientation if orientation in EXIF_ROTATION else 1


def _pillow_refused(exc: Exception, limits: MediaLimits) -> str:
    pillow = 2 * (Image.MAX_IMAGE_PIXELS or 0)
    if limits.max_pixels < pillow:
        return (f"the image is larger than the media limit of {limits.max_pixels:,} pixels (max_pixels), and than "
                f"Pillow's own limit: {exc}; it was refused before decoding (a decompression bomb?)")
    return (f"refused before decoding by Pillow's own limit, PIL.Image.MAX_IMAGE_PIXELS: {exc}; to read this "
            "trusted file, raise that as well as the media limit max_pixels")


def sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    """0..65535 -> 0..255 (rounded) as uint8."""
    return ((values.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
