"""Display geometry: rotation from a display matrix, and output sizes.

Rotation follows FFmpeg's display-matrix convention (what ffprobe prints): the
angle in degrees, counter-clockwise, by which the decoded picture is turned for
display, normalised to one of -90, 0, 90, 180. A phone held upright typically
records -90 (turn the picture 90 degrees clockwise).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def normalise_rotation(degrees: float) -> int:
    """``degrees`` rounded to a quarter turn, in (-180, 180]: 270 -> -90, -180 -> 180."""
    quarter = int(round(float(degrees) / 90.0)) % 4
    return (0, 90, 180, -90)[quarter]


def swaps_axes(rotation: int) -> bool:
    """True when the rotation exchanges width and height."""
    return normalise_rotation(rotation) in (90, -90)


def display_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """(width, height) as displayed, from the coded size."""
    return (height, width) if swaps_axes(rotation) else (width, height)


def coded_size(size: tuple[int, int], rotation: int) -> tuple[int, int]:
    """The coded (height, width) that becomes display ``size=(height, width)`` after rotation."""
    height, width = size
    return (width, height) if swaps_axes(rotation) else (height, width)


def rotate(image: "np.ndarray", rotation: int) -> "np.ndarray":
    """Turn an (H,W,C) picture for display: counter-clockwise by ``rotation`` degrees."""
    import numpy as np

    turns = normalise_rotation(rotation) // 90
    return image if turns == 0 else np.rot90(image, k=turns, axes=(0, 1))


def shortest_edge_size(height: int, width: int, edge: int) -> tuple[int, int]:
    """(height, width) with the shorter side resized to ``edge``, aspect ratio kept.

    The longer side is truncated like the CLIP-style processors do (``int(edge * long / short)``).
    """
    if min(height, width) <= 0 or edge <= 0:
        raise ValueError(f"sizes must be positive, got {height}x{width} -> {edge}")
    if height <= width:
        return edge, int(edge * width / height)
    return int(edge * height / width), edge
