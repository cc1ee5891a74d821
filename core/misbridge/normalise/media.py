"""What kind of image a photo is, from its own bytes."""

from __future__ import annotations

__all__ = ["sniff_media_type"]


def sniff_media_type(data: bytes) -> str | None:
    """The image type from the file's own signature (MIS media types are unreliable)."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None
