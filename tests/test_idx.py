import gzip
import hashlib
import struct
import tracemalloc

import numpy as np
import pytest

from dropout_py.data.idx import idx_sha256, read_idx, write_idx


def header(code: int, *dims: int, ndim: int | None = None) -> bytes:
    ndim = len(dims) if ndim is None else ndim
    return bytes((0, 0, code, ndim)) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("dtype", ["u1", "i1", ">i2", "<i4", "f4", "f8"])
@pytest.mark.parametrize("compress", [False, True])
def test_round_trip(tmp_path, dtype, compress):
    array = (np.arange(2 * 3 * 4).reshape(2, 3, 4) * 7 - 40).astype(dtype)
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    back = read_idx(path)
    assert back.shape == array.shape and back.dtype.kind == array.dtype.kind
    assert back.dtype.isnative and back.flags.writeable
    np.testing.assert_array_equal(back, array)
    np.testing.assert_array_equal(read_idx(path.read_bytes()), array)


def test_raw_layout_and_digest(tmp_path):
    array = np.array([[1, 2, 3], [4, 5, 6]], dtype=">i2")
    raw = write_idx(tmp_path / "a", array).read_bytes()
    assert raw == header(0x0B, 2, 3) + struct.pack(">6h", 1, 2, 3, 4, 5, 6)
    assert idx_sha256(array) == idx_sha256(array.astype("<i2")) == hashlib.sha256(raw).hexdigest()


def test_gzip_detected_by_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    gz_named_raw = write_idx(tmp_path / "looks-raw.idx", array, compress=True)
    raw_named_gz = write_idx(tmp_path / "looks.gz", array)
    assert gz_named_raw.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)


def test_compressed_output_is_deterministic(tmp_path):
    array = np.arange(1000, dtype=np.uint8)
    a = write_idx(tmp_path / "a.gz", array, compress=True).read_bytes()
    b = write_idx(tmp_path / "b.gz", array, compress=True).read_bytes()
    assert a == b
    flags, mtime = a[3], a[4:8]
    assert flags == 0 and mtime == bytes(4)  # no file name, no time stamp in the header


GOOD = header(0x08, 2, 3) + bytes(range(6))

MALFORMED = {
    "empty": (b"", "empty file"),
    "short magic": (b"\x00\x00\x08", "short header: 3 bytes"),
    "short dims": (header(0x08, 2, ndim=3) + b"\x00", "short header: 9 bytes, expected 16"),
    "bad magic": (b"\x01\x02\x08\x01" + GOOD[4:], "bad magic number 0x01020801"),
    "unknown type": (header(0x07, 6) + bytes(6), "unknown element type code 0x07"),
    "no dimensions": (header(0x08, ndim=0), "absurd dimensions: 0 dimensions"),
    "too many dimensions": (header(0x08, ndim=200), "absurd dimensions: 200 dimensions"),
    "huge dimensions": (header(0x08, 2**32 - 1, 2**32 - 1, 2**32 - 1), "absurd dimensions"),
    "truncated": (GOOD[:-2], "truncated payload"),
    "declares far too much": (header(0x0E, 1000, 1000, 4000), "truncated payload"),
    "oversized": (GOOD + b"\x00", "oversized payload"),
}


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_input_raises_value_error(tmp_path, case, compress):
    data, fragment = MALFORMED[case]
    if compress and data:
        data = gzip.compress(data, mtime=0)
    path = tmp_path / "bad-file"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=fragment) as info:
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith(f"{path}: ")
    assert peak < 1_000_000  # never allocates what the header merely claims


def gz_cases() -> dict[str, tuple[bytes, str]]:
    good = gzip.compress(GOOD, mtime=0)
    flipped = bytearray(good)
    flipped[-5] ^= 0xFF  # inside the stored length/CRC trailer
    return {
        "garbage after magic": (b"\x1f\x8b" + bytes(40), "broken gzip stream"),
        "cut in half": (good[: len(good) // 2], "broken gzip stream"),
        "no trailer": (good[:-8], "broken gzip stream"),
        "bad checksum": (bytes(flipped), "broken gzip stream"),
        "trailing data": (good + b"junk", "broken gzip stream"),
    }


@pytest.mark.parametrize("case", list(gz_cases()))
def test_broken_gzip(tmp_path, case):
    data, fragment = gz_cases()[case]
    path = tmp_path / "broken.gz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=fragment):
        read_idx(path)
    with pytest.raises(ValueError, match=r"^<bytes>: broken gzip"):
        read_idx(data)


def test_gzip_size_claim_is_bounded_before_allocating(tmp_path):
    # 60 bytes of gzip cannot expand to 100 MB: refused before any allocation.
    data = gzip.compress(header(0x08, 100, 1000, 1000), mtime=0)
    with pytest.raises(ValueError, match="can hold at most"):
        read_idx(data, name="claim.gz")


def test_expected_size_refuses_other_headers_before_allocating(tmp_path):
    bomb = gzip.compress(header(0x08, 3, 1000, 1000) + bytes(3_000_000), mtime=0)
    tracemalloc.start()
    with pytest.raises(ValueError, match="expected a file of 28 bytes"):
        read_idx(bomb, name="bomb.gz", expected_size=28)
    assert tracemalloc.get_traced_memory()[1] < 1e6
    tracemalloc.stop()
    right = header(0x08, 2, 2, 3) + bytes(12)
    assert read_idx(right, expected_size=28).shape == (2, 2, 3)
    assert read_idx(gzip.compress(right), expected_size=28).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="29 bytes, expected 28"):
        read_idx(right + b"x", expected_size=28)


def test_name_appears_in_errors():
    with pytest.raises(ValueError, match=r"^my-file: empty file"):
        read_idx(b"", name="my-file")


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")


@pytest.mark.parametrize(
    ("array", "fragment"),
    [
        (np.zeros(3, dtype=np.uint16), "cannot store dtype uint16"),
        (np.zeros(3, dtype=bool), "cannot store dtype bool"),
        (np.array(5, dtype=np.uint8), r"cannot store shape \(\)"),
    ],
)
def test_write_rejects_what_idx_cannot_hold(tmp_path, array, fragment):
    with pytest.raises(ValueError, match=fragment):
        write_idx(tmp_path / "x", array)
