"""Feeding packets to the decoder for a sparse read (used by the ``pyav`` decoder).

A :class:`Feeder` sends a stream's packets to its decoder, tells the decoder
to skip non-reference frames nobody asked for, and stops as soon as every
wanted packet is in or the next wanted frame is better reached by a seek.
"""
from __future__ import annotations

from mmplug.plugins.video.pyav_index import PacketIndex


class IndexMismatch(Exception):
    """The packet index does not describe what the decoder outputs: decode sequentially."""


class Feeder:
    """Sends packets to the decoder, skipping non-reference frames nobody wants."""

    def __init__(self, stream, index: PacketIndex, wanted_pts: set, take, skip_unwanted: bool):
        self.stream, self.index, self.wanted_pts, self.take = stream, index, wanted_pts, take
        self.skip_unwanted = skip_unwanted
        self.fed = -1  # highest frame index whose packet went in since the last seek
        self.landing: int | None = None  # after a seek: the frame the first packet must not pass
        self.flushed = False

    def restart(self, target: int) -> None:
        self.fed, self.landing, self.flushed = -1, target, False

    def drain(self) -> None:
        """Take the frames still inside the decoder (it then needs a seek to go on)."""
        if not self.flushed:
            self.take(self.stream.decode(None))
            self.flushed = True

    def feed(self, packets, unfed: "Pending", should_seek) -> bool:
        """Feed until every wanted packet is in, or the next one is better reached by a seek.
        Returns False at the end of the file."""
        current = unfed.first()
        codec = self.stream.codec_context
        for packet in packets:
            if packet.size == 0:  # end of file: flush the decoder
                self.take(packet.decode())
                self.flushed = True
                return False
            at = self.index.index_of(packet.pts)
            if self.landing is not None and not packet.is_discard:
                if at is None or at > self.landing:
                    raise IndexMismatch(f"seeking for frame {self.landing} landed after it")
                self.landing = None
            if self.skip_unwanted:
                codec.skip_frame = "DEFAULT" if packet.pts in self.wanted_pts else "NONREF"
            self.take(packet.decode())
            if at is not None:
                self.fed = max(self.fed, at)
                unfed.done(at)
            if not unfed:
                return True
            if unfed.first() != current:
                current = unfed.first()
                if should_seek(self.index.keyframe_before(current), self.fed):
                    return True
        return False


class Pending:
    """Frame indices still to decode, smallest first (O(1) membership for long lists)."""

    def __init__(self, indices):
        self._order = sorted(set(indices))
        self._left = set(self._order)
        self._at = 0

    def __bool__(self) -> bool:
        return bool(self._left)

    def first(self) -> int:
        while self._order[self._at] not in self._left:
            self._at += 1
        return self._order[self._at]

    def done(self, index: int) -> bool:
        """Mark ``index`` decoded; True if it was pending."""
        if index in self._left:
            self._left.remove(index)
            return True
        return False
