"""The ``clip`` image processor: resize shortest edge, center crop, rescale, normalise.

Two paths, one result (up to the stated tolerance):
- reference path (every single image; frame stacks when ``fast_frames`` is off):
  PIL resize of uint8 RGB, crop, float32 normalise; max |diff| <= 1e-5 against
  transformers' ``VideoLlavaImageProcessor``.
- fast path (frame stacks (T,H,W,3) that are downscaled): one batched, antialiased
  uint8 torch resize on channels-last memory; max |diff| <= 0.03, mean |diff| <= 0.003.
  Frames smaller than the resize target take the reference path (cheap at that size).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from mmplug.core.errors import ProcessorError
from mmplug.core.interfaces.image import ImageProcessor
from mmplug.plugins.image.convert import to_rgb_array, to_rgb_frames
from mmplug.plugins.image.options import ClipImageOptions

_PIL_FILTERS = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}


def shortest_edge_size(height: int, width: int, size: int) -> tuple[int, int]:
    """(height, width) with the shorter side ``size`` and the longer one scaled, rounded down."""
    if height <= width:
        return size, int(size * width / height)
    return int(size * height / width), size


def crop_box(height: int, width: int, crop: int, what: str) -> tuple[int, int]:
    """(top, left) of a centered ``crop`` x ``crop`` window; error if the image is smaller."""
    if height < crop or width < crop:
        raise ProcessorError(f"{what}: {height}x{width} pixels is smaller than the {crop}x{crop} center crop "
                             "(resizing is off); enable do_resize or lower crop_size")
    return (height - crop) // 2, (width - crop) // 2


class ClipImageProcessor(ImageProcessor):
    """Images (PIL / numpy / torch, channels-last) -> float32 pixels (N,3,crop,crop)."""

    def __init__(self, options: ClipImageOptions | None = None):
        self.options = options or ClipImageOptions()
        o = self.options
        self.output_size = self.fixed_output_size()
        mean = torch.tensor(o.image_mean, dtype=torch.float32).view(3, 1, 1)
        std = torch.tensor(o.image_std, dtype=torch.float32).view(3, 1, 1)
        self._mean, self._std = (mean, std) if o.do_normalize else (torch.zeros(3, 1, 1), torch.ones(3, 1, 1))
        self._scale = o.rescale_factor if o.do_rescale else 1.0
        self._gain, self._shift = self._scale / self._std, -self._mean / self._std

    # ------------------------------------------------------------------ geometry (subclasses change it)
    def fixed_output_size(self) -> tuple[int, int]:
        """(H, W) of every output (the options' ``output_side()``); (0, 0) when it follows the input."""
        side = self.options.output_side()
        return (side[0], side[0]) if side else (0, 0)

    def resized_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) an image of ``height`` x ``width`` is resized to: the shortest edge to ``size``."""
        return shortest_edge_size(height, width, self.options.size)

    # ------------------------------------------------------------------ public API
    def __call__(self, images: Sequence[Any] | Any) -> torch.Tensor:
        """One image, a list of images, or one frame stack (T,H,W,C) -> (N,3,H,W) float32."""
        if isinstance(images, (list, tuple)):
            if not images:
                raise ProcessorError("no images given")
            return torch.stack([self.preprocess_image(image, f"image {i}") for i, image in enumerate(images)])
        if getattr(images, "ndim", 0) == 4:
            return self.preprocess_frames(images)
        return self.preprocess_image(images)[None]

    def preprocess_image(self, image: Any, what: str = "image") -> torch.Tensor:
        """One image -> (3,H,W) float32 on the reference path."""
        return self._finish(self._reference_uint8(to_rgb_array(image, what), what))

    def preprocess_frames(self, frames: Any, what: str = "video") -> torch.Tensor:
        """Frames (T,H,W,C) numpy/torch or a list of images -> (T,3,H,W) float32."""
        stack = to_rgb_frames(frames, what)
        upscaling = self.options.do_resize and min(stack.shape[1:3]) < self.options.size
        if not self.options.fast_frames or upscaling:  # small frames: the exact path is cheap
            return torch.stack([self._finish(self._reference_uint8(f, f"{what}, frame {i}"))
                                for i, f in enumerate(stack)])
        return self._finish_fused(self._fast_uint8(stack, what))

    def decode_size(self, height: int, width: int) -> tuple[int, int] | None:
        """With ``decode_oversample`` set (fast path only): the size whose shortest edge is
        ``decode_oversample x size``; None when off or when the frame is not larger."""
        o = self.options
        if not (o.fast_frames and o.do_resize and o.decode_oversample):
            return None
        target = math.ceil(o.size * o.decode_oversample)
        if min(height, width) <= target:
            return None
        return shortest_edge_size(height, width, target)

    # ------------------------------------------------------------------ the two paths
    def _reference_uint8(self, rgb: np.ndarray, what: str) -> torch.Tensor:
        """(H,W,3) uint8 -> resized and cropped (3,h,w) uint8 via PIL."""
        o = self.options
        if o.do_resize:
            height, width = self.resized_size(rgb.shape[0], rgb.shape[1])
            resized = Image.fromarray(np.ascontiguousarray(rgb)).resize((width, height), _PIL_FILTERS[o.resample])
            rgb = np.asarray(resized)
        if o.do_center_crop:
            top, left = crop_box(rgb.shape[0], rgb.shape[1], o.crop_size, what)
            rgb = rgb[top:top + o.crop_size, left:left + o.crop_size]
        return torch.from_numpy(np.require(rgb, requirements=("C", "W"))).permute(2, 0, 1)

    def _fast_uint8(self, stack: np.ndarray, what: str) -> torch.Tensor:
        """(T,H,W,3) uint8 -> (T,3,h,w) uint8 with one antialiased channels-last resize."""
        o = self.options
        frames = torch.from_numpy(np.require(stack, requirements=("C", "W"))).permute(0, 3, 1, 2)  # channels-last view
        if o.do_resize:
            size = self.resized_size(frames.shape[2], frames.shape[3])
            frames = F.interpolate(frames, size=size, mode=o.resample, antialias=True, align_corners=False)
        if o.do_center_crop:
            top, left = crop_box(frames.shape[2], frames.shape[3], o.crop_size, what)
            frames = frames[:, :, top:top + o.crop_size, left:left + o.crop_size]
        return frames

    def _finish(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (...,3,H,W) -> float32 ``(x * rescale - mean) / std``, in the reference's arithmetic."""
        scaled = (pixels.to(torch.float64) * self._scale).to(torch.float32)
        return ((scaled - self._mean) / self._std).contiguous()

    def _finish_fused(self, pixels: torch.Tensor) -> torch.Tensor:
        """The same affine map as one float32 multiply-add (differs by float rounding, ~1e-7)."""
        out = torch.empty(pixels.shape, dtype=torch.float32)
        out.copy_(pixels)  # one pass: uint8 -> float32 and channels-last crop -> contiguous
        return torch.addcmul(self._shift, out, self._gain, out=out)


def build_clip_image_processor(options: ClipImageOptions, context: Any = None) -> ClipImageProcessor:
    """Factory of the ``clip`` image processor (runs on the CPU; ``context`` unused)."""
    return ClipImageProcessor(options)
