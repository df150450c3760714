"""The packet index of a video stream: frame order and keyframes, learnt without decoding.

A sequential decode outputs frames in presentation order, so frame ``i`` is the
packet with the ``i``-th smallest presentation timestamp (pts). Knowing that,
and where the keyframes are, lets the decoder seek straight to the keyframe
before a wanted frame and recognise the wanted frame when it comes out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class PacketIndex:
    """``pts`` int64 (N,) sorted presentation timestamps in ``time_base`` units;
    ``keyframes`` int64 (K,) sorted frame indices of keyframes.

    ``exact`` is False when some packet has no pts or two share one: the index
    then still counts frames, but cannot map decoded frames back to indices.
    ``declared`` is the frame count the container states (0 if none).
    """

    pts: np.ndarray
    keyframes: np.ndarray
    time_base: float
    exact: bool
    declared: int = 0
    _position: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_frames(self) -> int:
        return int(len(self.pts))

    def index_of(self, pts: int | None) -> int | None:
        """Frame index of a decoded frame's pts (None if no packet has it)."""
        return self._position.get(pts) if pts is not None else None

    def keyframe_before(self, index: int) -> int:
        """Index of the last keyframe at or before frame ``index`` (0 if there is none)."""
        at = int(np.searchsorted(self.keyframes, index, side="right")) - 1
        return int(self.keyframes[at]) if at >= 0 else 0

    def frame_times(self) -> np.ndarray | None:
        """Seconds from the first frame to each frame (N,) float64; None when pts cannot be trusted."""
        if not self.exact or not self.time_base or not len(self.pts):
            return None
        return (self.pts - self.pts[0]).astype(np.float64) * self.time_base

    def frame_durations(self) -> np.ndarray:
        """Seconds between consecutive frames (N-1,)."""
        return np.diff(self.pts) * self.time_base

    def is_variable_rate(self, tolerance: float = 0.02) -> bool:
        """True when frame intervals differ by more than ``tolerance`` of the median interval."""
        gaps = self.frame_durations()
        if not self.exact or len(gaps) < 2:
            return False
        median = float(np.median(gaps))
        return median > 0 and float(np.max(np.abs(gaps - median))) > tolerance * median + self.time_base


def has_sample_table(stream) -> bool:
    """True when the container lists every packet up front (mp4/mov) and frames are not
    reordered, so the listed decode times are the presentation order."""
    declared = int(stream.frames or 0)
    return declared > 0 and not stream.codec_context.has_b_frames and len(stream.index_entries) == declared


def index_from_sample_table(container, stream) -> PacketIndex | None:
    """The index from the container's sample table, without reading the file's packets.

    The listed times must be the packets' presentation times: the first packet and the
    packets after the last keyframe are read to check that (None if they differ, e.g. a
    truncated file or a time offset). Leaves the container at the end of the file.
    """
    entries = stream.index_entries
    count = len(entries)
    times = np.fromiter((e.timestamp for e in entries), np.int64, count)
    keep = np.fromiter((not e.is_discard and e.size > 0 for e in entries), bool, count)
    is_key = np.fromiter((e.is_keyframe for e in entries), bool, count)[keep]
    pts = times[keep]
    if pts.size == 0 or not is_key.any() or np.any(np.diff(pts) <= 0):
        return None
    first = next((p for p in container.demux(stream) if p.size and not p.is_discard), None)
    if first is None or first.pts != pts[0]:
        return None
    keyframes = np.flatnonzero(is_key)
    container.seek(int(pts[keyframes[-1]]), stream=stream, backward=True)
    tail = [p.pts for p in container.demux(stream) if p.size and not p.is_discard]
    if len(tail) < pts.size - keyframes[-1] or tail != pts[pts.size - len(tail):].tolist():
        return None
    position = {int(p): i for i, p in enumerate(pts)}
    return PacketIndex(pts, keyframes.astype(np.int64), _time_base(stream), exact=True,
                       declared=int(stream.frames), _position=position)


def index_from_packets(container, stream) -> PacketIndex:
    """Read every packet of ``stream`` (decoding nothing) and index its frames.

    Packets marked discard (cut by an edit list) and empty packets produce no
    frame and are left out. Needs a freshly opened container; leaves it at the end.
    """
    pts_list: list[int | None] = []
    key_pts: list[int | None] = []
    for packet in container.demux(stream):
        if packet.size == 0 or packet.is_discard:
            continue
        pts_list.append(packet.pts)
        if packet.is_keyframe:
            key_pts.append(packet.pts)
    time_base = _time_base(stream)
    declared = int(stream.frames or 0)
    if any(p is None for p in pts_list) or len(set(pts_list)) != len(pts_list):
        count = len(pts_list)
        return PacketIndex(np.arange(count, dtype=np.int64), np.zeros(1, np.int64), time_base, exact=False,
                           declared=declared)
    pts = np.sort(np.asarray(pts_list, dtype=np.int64))
    position = {int(p): i for i, p in enumerate(pts)}
    keyframes = np.sort(np.asarray([position[int(p)] for p in key_pts], dtype=np.int64))
    return PacketIndex(pts, keyframes, time_base, exact=True, declared=declared, _position=position)


def _time_base(stream) -> float:
    return float(stream.time_base) if stream.time_base else 0.0
