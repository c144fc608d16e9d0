"""A minimal PNG encoder (8-bit gray, RGB or RGBA, no filtering) and a data-URI helper.

Pixels become a PNG with the stdlib only: each row is prefixed by filter byte 0 ("none"), the
rows are zlib-compressed into one ``IDAT`` chunk, and every chunk carries its CRC-32.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (gray, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_png(pixels: np.ndarray) -> bytes:
    """Encode an image as PNG bytes.

    Parameters
    ----------
    pixels : numpy.ndarray of uint8, shape (height, width) or (height, width, 3 | 4)
        Gray levels, RGB or RGBA values.

    Returns
    -------
    bytes
        A complete PNG file.

    Raises
    ------
    ValueError
        If ``pixels`` is not uint8, empty, or has another shape.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise ValueError(f"pixels must be uint8, got dtype {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in _COLOUR_TYPES or 0 in pixels.shape:
        raise ValueError(
            f"pixels must have shape (height, width) or (height, width, 3 or 4), got {pixels.shape}"
        )
    height, width, channels = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    rows[:, 1:] = pixels.reshape(height, width * channels)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def png_data_uri(pixels: np.ndarray) -> str:
    """Return ``data:image/png;base64,...`` for :func:`encode_png` of ``pixels``."""
    return "data:image/png;base64," + base64.b64encode(encode_png(pixels)).decode("ascii")


def pixel_digest(pixels: np.ndarray) -> str:
    """CRC-32 of the shape and pixel values, as 8 hex digits.

    The compressed PNG bytes depend on the zlib build (zlib, zlib-ng...); this digest does not,
    so figures hash it (not the PNG) when they derive their ids.
    """
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    return f"{zlib.crc32(repr(pixels.shape).encode() + pixels.tobytes()) & 0xFFFFFFFF:08x}"
