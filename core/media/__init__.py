"""Decoder-agnostic media handling: sources, format sniffing, display geometry, batch reads.

Nothing here knows a concrete decoder; decoders are plugins (kind ``video_decoder``).
Importing this package is cheap (no numpy, av, PIL or torch); ``mmplug.core.media.image``
(image files within the media limits, the one conversion to RGB) imports numpy and Pillow.
"""
from mmplug.core.media.batch import VideoResult, failures, read_video, read_videos
from mmplug.core.media.geometry import (
    coded_size,
    display_size,
    normalise_rotation,
    rotate,
    shortest_edge_size,
)
from mmplug.core.media.limits import MediaLimits, media_limits, media_limits_set, set_media_limits
from mmplug.core.media.sniff import sniff
from mmplug.core.media.source import Source, as_source

__all__ = [
    "MediaLimits", "Source", "VideoResult", "as_source", "coded_size", "display_size", "failures",
    "media_limits", "media_limits_set", "normalise_rotation", "read_video", "read_videos", "rotate",
    "set_media_limits", "shortest_edge_size", "sniff",
]
