"""Profile pictures: Arbor may send a generic content type, so the bytes decide."""

from __future__ import annotations

__all__ = ["media_type"]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)


def media_type(data: bytes, header: str | None) -> str | None:
    """The image type from the magic bytes, else the header if it names an image."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if header and header.split(";")[0].strip().lower().startswith("image/"):
        return header.split(";")[0].strip().lower()
    return None
