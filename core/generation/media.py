"""Media given to the pipeline -> what the processor takes.

Images: paths, bytes, PIL images, numpy / torch (H,W,C) uint8. Videos: paths, bytes, binary
file objects (decoded with the pipeline's video decoder and frame sampler), or frames already
decoded: numpy / torch (T,H,W,3) uint8, or a list of images.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from mmplug.core.errors import ProcessorError, describe_source


def is_encoded(item: Any) -> bool:
    """A path, raw bytes or a binary file object (as opposed to decoded pixels)."""
    return isinstance(item, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(item, "read")


def load_image(item: Any) -> Any:
    """A PIL image for encoded input (path/bytes/file), the item itself for decoded pixels.

    Files open within the media limits (``mmplug.core.media.image.open_image``)."""
    if not is_encoded(item):
        return item
    from mmplug.core.media.image import open_image

    return open_image(item, "pillow")


def load_video(item: Any, decoder: Any, sampler: Any, image_processor: Any = None) -> np.ndarray:
    """Frames (T,H,W,3) uint8 of one video.

    Encoded videos are probed, sampled (content-aware samplers may peek at frames) and read,
    scaled during colour conversion when the image processor says it is safe.
    """
    if not is_encoded(item):
        return _as_frames(item)
    if decoder is None or sampler is None:
        raise ProcessorError(f"{describe_source(item)}: decoding videos needs 'video_decoder' and "
                             "'frame_sampler' sections in the pipeline config (or pass decoded frames)")

    def decode_size(info: Any) -> tuple[int, int] | None:
        return image_processor.decode_size(info.height, info.width) if image_processor is not None else None

    return decoder.read_sampled(item, sampler, size=decode_size)[1].frames


def _as_frames(item: Any) -> np.ndarray:
    if isinstance(item, (list, tuple)):
        from mmplug.core.media.image import rgb_pixels

        frames = []
        for index, frame in enumerate(item):
            image = load_image(frame)
            frames.append(rgb_pixels(image, f"frame {index}") if hasattr(image, "convert") else np.asarray(image))
        if not frames:
            raise ProcessorError("a video given as a list of frames must hold at least one frame")
        item = np.stack(frames)
    array = item.numpy() if hasattr(item, "numpy") else np.asarray(item)
    if array.ndim != 4 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ProcessorError(f"decoded video frames must be uint8 (T,H,W,3), got {array.dtype} {array.shape}")
    return array
