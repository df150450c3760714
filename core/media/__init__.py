"""Decoder-agnostic media handling: sources, format sniffing, display geometry, batch reads.

Nothing here knows a concrete decoder; decoders are plugins (kind ``video_decoder``).
Importing this package is cheap (no numpy, av or torch).
"""
from mmplug.core.media.batch import VideoResult, failures, read_video, read_videos
from mmplug.core.media.geometry import (
    coded_size,
    display_size,
    normalise_rotation,
    rotate,
    shortest_edge_size,
)
from mmplug.core.media.sniff import sniff
from mmplug.core.media.source import Source, as_source

__all__ = [
    "Source", "VideoResult", "as_source", "coded_size", "display_size", "failures", "normalise_rotation",
    "read_video", "read_videos", "rotate", "shortest_edge_size", "sniff",
]
