"""Read and write IDX files, the simple binary format MNIST is distributed in.

An IDX file is a 4-byte magic number (two zero bytes, an element type code, the number of
dimensions), one big-endian 32-bit size per dimension, then the elements in C order, big-endian.
The files are often gzip-compressed; :func:`read_idx` recognises gzip by its magic bytes, not by
the file name.

The reader is defensive: every malformed input raises :class:`ValueError` naming the file and the
problem, and it never allocates more memory than the input could possibly hold (for gzip input
the declared size is bounded by deflate's maximal expansion before anything is allocated, and the
payload is decompressed incrementally straight into the result array). When the caller knows the
file's size (MNIST's files have fixed sizes), a header declaring anything else is refused before
allocating and reading, and gzip input is never inflated past that size.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

#: IDX element type codes and the (big-endian) dtypes they stand for.
TYPE_CODES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAX_NDIM = 8  # real IDX files have 1 to 4 dimensions; more means a corrupt header
MAX_PAYLOAD = 1 << 40  # 1 TiB: no IDX file is anywhere near that large
_GZIP_MAGIC = b"\x1f\x8b"
_DEFLATE_MAX_RATIO = 1032  # deflate cannot expand n compressed bytes beyond ~1032 * n
_CHUNK = 1 << 16

Source = str | os.PathLike | bytes | bytearray | memoryview


def read_idx(
    source: Source, *, name: str | None = None, expected_size: int | None = None
) -> np.ndarray:
    """Read a raw or gzip-compressed IDX file into a new, writable array.

    Parameters
    ----------
    source : path-like or bytes-like
        A file name, or the file's contents (e.g. bytes fetched by the browser).
    name : str, optional
        How to call the input in error messages (defaults to the path, or ``"<bytes>"``).
    expected_size : int, optional
        The size in bytes of the (uncompressed) IDX file, header included, if known: a header
        declaring another size is refused before anything is allocated, so a small gzip file
        can never inflate to more.

    Returns
    -------
    numpy.ndarray
        Shape as declared by the header (MNIST images: (N, 28, 28), labels: (N,)), elements in
        native byte order.

    Raises
    ------
    ValueError
        If the input is empty, its header is short, its magic number or type code is invalid, its
        dimensions are absurd or do not give ``expected_size``, the payload is shorter or longer
        than declared, or its gzip stream is broken. The message starts with the file's name.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        label = name or "<bytes>"
        return _read_stream(io.BytesIO(source), len(source), label, expected_size)
    label = name or str(source)
    with open(source, "rb", buffering=0) as raw:
        return _read_stream(raw, os.fstat(raw.fileno()).st_size, label, expected_size)


def _read_stream(raw: BinaryIO, size: int, label: str, expected_size: int | None) -> np.ndarray:
    if size == 0:
        raise ValueError(f"{label}: empty file, expected an IDX header")
    head = raw.read(2)
    raw.seek(0)
    try:
        if head == _GZIP_MAGIC:
            reader = _GzipReader(raw, label)
            return _parse(reader, size * _DEFLATE_MAX_RATIO, label, expected_size)
        if expected_size is not None and size != expected_size:
            raise ValueError(
                f"{label}: {size} bytes, expected {expected_size} for this file "
                "(wrong or damaged file)"
            )
        return _parse(raw, size, label, expected_size)
    except zlib.error as exc:
        raise ValueError(f"{label}: broken gzip stream ({exc})") from None


def _parse(
    stream: BinaryIO | _GzipReader, capacity: int, label: str, expected_size: int | None
) -> np.ndarray:
    """Parse header and payload from ``stream``, which can yield at most ``capacity`` bytes."""
    dtype, shape = _parse_header(stream, label)
    header_bytes = 4 + 4 * len(shape)
    declared = math.prod(shape) * dtype.itemsize
    if expected_size is not None and header_bytes + declared != expected_size:
        raise ValueError(
            f"{label}: header declares shape {shape} ({header_bytes + declared} bytes with the "
            f"header), expected a file of {expected_size} bytes (wrong or damaged file)"
        )
    if declared >= MAX_PAYLOAD:
        raise ValueError(
            f"{label}: absurd dimensions {shape}: {declared} bytes of payload, "
            f"more than any IDX file ({MAX_PAYLOAD} bytes)"
        )
    if declared > capacity - header_bytes:
        held = "can hold at most" if isinstance(stream, _GzipReader) else "holds"
        raise ValueError(
            f"{label}: truncated payload: header declares {declared} bytes for shape {shape}, "
            f"the file {held} {max(capacity - header_bytes, 0)}"
        )
    out = np.empty(shape, dtype=dtype)
    got = _read_full(stream, out.reshape(-1).view(np.uint8).data)
    if got < declared:
        raise ValueError(f"{label}: truncated payload: {got} of {declared} bytes for shape {shape}")
    if stream.read(1):
        raise ValueError(
            f"{label}: oversized payload: more data than the {declared} bytes the header "
            f"declares for shape {shape}"
        )
    if dtype.byteorder == ">":
        out.byteswap(inplace=True)  # to native order, in place (multi-byte types only)
        out = out.view(dtype.newbyteorder("="))
    return out


def _parse_header(stream: BinaryIO | _GzipReader, label: str) -> tuple[np.dtype, tuple[int, ...]]:
    magic = stream.read(4)
    if len(magic) == 0:
        raise ValueError(f"{label}: empty file, expected an IDX header")
    if len(magic) < 4:
        raise ValueError(f"{label}: short header: {len(magic)} bytes, expected at least 4")
    if magic[:2] != b"\0\0":
        raise ValueError(
            f"{label}: bad magic number 0x{magic.hex()}: expected two zero bytes, "
            "a type code and the number of dimensions"
        )
    code, ndim = magic[2], magic[3]
    if code not in TYPE_CODES:
        known = ", ".join(f"0x{c:02x}" for c in TYPE_CODES)
        raise ValueError(
            f"{label}: unknown element type code 0x{code:02x}, expected one of {known}"
        )
    if not 1 <= ndim <= MAX_NDIM:
        raise ValueError(f"{label}: absurd dimensions: {ndim} dimensions, expected 1 to {MAX_NDIM}")
    dims = stream.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"{label}: short header: {4 + len(dims)} bytes, expected {4 + 4 * ndim} "
            f"for {ndim} dimensions"
        )
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    return TYPE_CODES[code], shape


def _read_full(stream: BinaryIO | _GzipReader, view: memoryview) -> int:
    """Fill ``view`` from ``stream``; return how many bytes arrived (fewer only at its end)."""
    done = 0
    while done < len(view):
        n = stream.readinto(view[done:])  # type: ignore[union-attr]  # BinaryIO's stub lacks it
        if not n:
            break
        done += n
    return done


class _GzipReader:
    """Decompress a gzip stream on demand, never producing more than asked for.

    Reading past the end of the payload checks the gzip trailer (zlib verifies CRC and length)
    and that nothing follows it; a stream that stops early raises :class:`ValueError`.
    """

    def __init__(self, raw: BinaryIO, label: str) -> None:
        self._raw = raw
        self._label = label
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def readinto(self, view: memoryview) -> int:
        while len(view) and not self._inflate.eof:
            data = self._inflate.unconsumed_tail or self._raw.read(_CHUNK)
            out = self._inflate.decompress(data, len(view))
            if out:
                view[: len(out)] = out
                return len(out)
            if not data:
                raise ValueError(f"{self._label}: broken gzip stream (ends before its end marker)")
        if self._inflate.unused_data or self._raw.read(1):
            raise ValueError(f"{self._label}: broken gzip stream (data after its end marker)")
        return 0

    def read(self, n: int) -> bytes:
        buf = bytearray(n)
        return bytes(buf[: _read_full(self, memoryview(buf))])


def encode_header(array: np.ndarray) -> bytes:
    """Return the IDX header (magic number and dimensions) for ``array``.

    Raises
    ------
    ValueError
        If the dtype has no IDX type code or the shape cannot be stored.
    """
    codes = {(dt.kind, dt.itemsize): code for code, dt in TYPE_CODES.items()}
    code = codes.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        names = ", ".join(dt.name for dt in TYPE_CODES.values())
        raise ValueError(f"cannot store dtype {array.dtype} in IDX, expected one of {names}")
    if not 1 <= array.ndim <= MAX_NDIM or any(d >= 1 << 32 for d in array.shape):
        raise ValueError(f"cannot store shape {array.shape} in IDX, expected 1 to {MAX_NDIM} dims")
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return bytes((0, 0, code, array.ndim)) + dims


def _payload(array: np.ndarray) -> memoryview:
    big = array.astype(array.dtype.newbyteorder(">"), order="C", copy=False)
    return np.ascontiguousarray(big).reshape(-1).view(np.uint8).data


def idx_sha256(array: np.ndarray) -> str:
    """Return the sha256 of the raw (uncompressed) IDX encoding of ``array``, in hex.

    Equal to the sha256 of the file :func:`write_idx` writes without compression, and to that of
    any valid raw IDX file that :func:`read_idx` reads into ``array``.
    """
    digest = hashlib.sha256(encode_header(array))
    digest.update(_payload(array))
    return digest.hexdigest()


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool = False) -> Path:
    """Write ``array`` as an IDX file, optionally gzip-compressed.

    Compressed output is deterministic (no time stamp or file name in the gzip header).

    Parameters
    ----------
    path : path-like
        Destination; overwritten if it exists.
    array : numpy.ndarray
        1 to 8 dimensions of uint8, int8, int16, int32, float32 or float64.
    compress : bool
        Write gzip (level 6) instead of raw bytes.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    array = np.asarray(array)
    header = encode_header(array)
    path = Path(path)
    with open(path, "wb") as fh:
        if not compress:
            fh.write(header)
            fh.write(_payload(array))
        else:
            with gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=6, mtime=0) as gz:
                gz.write(header)
                gz.write(_payload(array))
    return path
