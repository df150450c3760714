"""Any supported image input -> RGB uint8 arrays.

Accepted: PIL images of any mode, converted by :func:`mmplug.core.media.image.rgb_pixels`
(EXIF orientation applied; RGBA/LA drop alpha, L/P/CMYK/YCbCr convert as PIL does, 16-bit
``I;16*``/``I`` scale 0..65535 -> 0..255), numpy arrays and torch tensors in channels-last
layout (H,W), (H,W,1|3|4) or frame stacks (T,H,W,1|3|4), dtype uint8 or uint16 (scaled like
16-bit PIL images).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from mmplug.core.errors import ProcessorError
from mmplug.core.media.image import rgb_pixels, sixteen_to_eight


def _array_from(value: Any, what: str) -> np.ndarray:
    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.startswith("torch"):
        return value.detach().cpu().numpy()
    raise ProcessorError(f"{what}: unsupported input type {type(value).__name__}; give a PIL image, a numpy "
                         "array or a torch tensor")


def _channels_to_rgb(array: np.ndarray, what: str) -> np.ndarray:
    """(..., H, W) or (..., H, W, C) uint8/uint16 -> (..., H, W, 3) uint8."""
    if array.dtype == np.uint16:
        array = sixteen_to_eight(array)
    elif array.dtype != np.uint8:
        raise ProcessorError(f"{what}: dtype {array.dtype} is not supported; give uint8 (or uint16) pixels, "
                             "e.g. (x * 255).round().clip(0, 255).astype('uint8') for floats in 0..1")
    channels = array.shape[-1]
    if channels == 3:
        return array
    if channels == 4:
        return array[..., :3]
    if channels == 1:
        return np.repeat(array, 3, axis=-1)
    raise ProcessorError(f"{what}: shape {tuple(array.shape)} has {channels} channels in the last dimension; "
                         "images are channels-last (H,W,C) with C in 1, 3, 4"
                         + ("; this looks channels-first, permute it to (H,W,C)" if array.shape[-3] in (1, 3, 4)
                            else ""))


def to_rgb_array(image: Any, what: str = "image") -> np.ndarray:
    """One image -> (H,W,3) uint8 numpy array; ``what`` names it in errors (e.g. "image 2")."""
    if isinstance(image, Image.Image):
        return rgb_pixels(image, what)  # the one conversion of PIL images
    array = _array_from(image, what)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ProcessorError(f"{what}: expected an (H,W) or (H,W,C) image, got shape {tuple(array.shape)}"
                             + ("; frame stacks go in 'videos'" if array.ndim == 4 else ""))
    return _channels_to_rgb(array, what)


def to_rgb_frames(frames: Any, what: str = "video") -> np.ndarray:
    """A frame stack (T,H,W,C) (numpy/torch) or a list of images -> (T,H,W,3) uint8 numpy array."""
    if isinstance(frames, (list, tuple)):
        if not frames:
            raise ProcessorError(f"{what}: no frames")
        arrays = [to_rgb_array(frame, f"{what}, frame {i}") for i, frame in enumerate(frames)]
        if len({a.shape for a in arrays}) > 1:
            raise ProcessorError(f"{what}: frames differ in size ({sorted({a.shape for a in arrays})})")
        return np.stack(arrays)
    array = _array_from(frames, what)
    if array.ndim != 4:
        raise ProcessorError(f"{what}: expected frames (T,H,W,C), got shape {tuple(array.shape)}")
    if array.shape[0] == 0:
        raise ProcessorError(f"{what}: no frames (T=0)")
    return _channels_to_rgb(array, what)
