"""Recognise what a media file is from its first bytes (no decoder involved).

Decoders use this to send still images to an image reader, animated formats
to a video decoder, and to give better error messages for files that are
neither (a text file renamed to .mp4, for instance).
"""
from __future__ import annotations

import codecs

STILL = "image"
ANIMATED = "gif"
TEXT = "text"
OTHER = "other"

_STILL_MAGIC = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"BM",  # BMP
    b"II*\x00",  # TIFF, little endian
    b"MM\x00*",  # TIFF, big endian
)


def sniff(head: bytes) -> str:
    """Classify a file by its first bytes: "image", "gif", "text" or "other" (a video, maybe)."""
    if head.startswith((b"GIF87a", b"GIF89a")):
        return ANIMATED
    if head.startswith(_STILL_MAGIC):
        return STILL
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return STILL
    if not head.startswith(b"YUV4MPEG2") and _looks_like_text(head):
        return TEXT
    return OTHER


def _looks_like_text(head: bytes) -> bool:
    """True for printable UTF-8 text (no video or image container starts like that)."""
    if not head:
        return False
    try:
        # not final: a multi-byte character cut at the end of the head is still text
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
