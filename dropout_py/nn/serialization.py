"""Saving and loading trained networks as ``.npz`` files, shared by both engines.

A model file is a plain NumPy ``.npz`` archive (no pickle) holding the weight arrays plus three
entries: ``__format__`` (an integer version), ``__kind__`` (the class name) and ``__config__``
(the constructor settings as JSON, with ``epochs_trained`` and ``history`` where the model keeps
them). Files are written to a temporary name in the same folder and moved into place only when
complete, so a crash never leaves half a model under the real name.

Model files are shared and downloaded, so loading treats them as untrusted input and checks
before it allocates: it reads the three small entries first, derives every parameter's shape
from the settings, then compares each stored array's ``.npy`` header (shape, dtype, size in the
archive) with what the settings ask for before reading any array data, and reads nothing else.
Every problem is a :class:`ValueError` naming the file and the field.
"""

from __future__ import annotations

import inspect
import io
import json
import math
import numbers
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from dropout_py._files import replacing

FORMAT_VERSION = 1
#: The most parameters a model file may ask for (400 MB as float32, 800 MB as float64).
MAX_PARAMETERS = 100_000_000
MAX_CONFIG_CHARS = 4_000_000  # the settings JSON; a long history takes ~150 characters an epoch
MAX_KIND_CHARS = 100
MAX_MEMBERS = 10_000  # a model has 3 + 2 per layer; ZIP64's 65,535+ are refused as well
_END_RECORD_SEARCH = 22 + 65_535  # the end-of-directory record and the longest comment
_META = ("__format__", "__kind__", "__config__")
_STATE = ("epochs_trained", "history")  # training state kept in __config__ beside the settings
_MAX_NPY_HEADER = 10_000
_CHUNK = 1 << 20
_LZMA_ERROR: type[Exception]
try:  # not in Pyodide's standard library unless loaded
    from lzma import LZMAError as _LZMA_ERROR
except ImportError:  # pragma: no cover - zipfile then refuses LZMA members (RuntimeError)
    _LZMA_ERROR = zlib.error

#: What a broken or hostile archive can raise from :mod:`zipfile` and its decompressors.
_ARCHIVE_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    _LZMA_ERROR,
    EOFError,
    OSError,
    RuntimeError,  # an encrypted member
    NotImplementedError,  # an unknown compression method
    ValueError,
    struct.error,
    OverflowError,
)

Shapes = Mapping[str, tuple[int, ...]]


class TrainingState(NamedTuple):
    """How far a saved model was trained: epochs and one record per epoch."""

    epochs_trained: int
    history: list[dict[str, float | None]]


def save_npz(
    path: str | os.PathLike[str],
    *,
    kind: str,
    config: dict[str, Any],
    arrays: dict[str, np.ndarray],
) -> Path:
    """Write ``arrays`` and their ``config`` to ``path`` atomically; return the path.

    The file gets the permissions a new file gets (``0o666`` minus the umask), or keeps those
    of the file it replaces. What loading would refuse is refused here, before anything is
    written (``ValueError``): parameters that are not finite, more than :data:`MAX_PARAMETERS`
    of them, settings (with the history) longer than :data:`MAX_CONFIG_CHARS`.

    Parameters
    ----------
    path : path-like
        Destination, used exactly as given (no suffix is added).
    kind : str
        Name of the model class, checked again on load.
    config : dict
        JSON-serialisable constructor settings.
    arrays : dict of str to numpy.ndarray
        The learned parameters.
    """
    path = Path(path)
    text = json.dumps(config, sort_keys=True)
    _check_loadable(path, text, arrays)
    payload: dict[str, Any] = {
        "__format__": np.array(FORMAT_VERSION),
        "__kind__": np.array(kind),
        "__config__": np.array(text),
        **arrays,
    }
    with replacing(path) as tmp, open(tmp, "xb") as f:
        np.savez(f, **payload)
        f.flush()
        os.fsync(f.fileno())
    return path


def _check_loadable(path: Path, config_text: str, arrays: dict[str, np.ndarray]) -> None:
    """Raise ``ValueError`` if :func:`load_npz` would refuse a file with this content."""
    if len(config_text) > MAX_CONFIG_CHARS:
        raise ValueError(
            f"{path}: the settings and training history take {len(config_text):,} characters; "
            f"a model file holds at most {MAX_CONFIG_CHARS:,}, so it could not be loaded back"
        )
    total = sum(int(np.size(array)) for array in arrays.values())
    if total > MAX_PARAMETERS:
        raise ValueError(
            f"{path}: {total:,} parameters; a model file holds at most {MAX_PARAMETERS:,}, "
            "so it could not be loaded back"
        )
    for name, array in arrays.items():
        if np.asarray(array).dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(
                f"{path}: parameter {name!r} holds inf or nan (training diverged?); a model "
                "file holds finite numbers only, so it could not be loaded back"
            )


def read_kind(path: str | os.PathLike[str]) -> str:
    """Return the class name stored in the model file at ``path`` (nothing else is read).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable model file of this format version.
    """
    with _Archive(Path(path)) as archive:
        return archive.metadata()[0]


def load_npz(
    path: str | os.PathLike[str],
    *,
    shapes: Shapes | Callable[[dict[str, Any]], Shapes],
    kind: str | None = None,
) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`save_npz`, checking it before reading any array.

    Parameters
    ----------
    path : path-like
    shapes : mapping or callable
        The parameters the file must hold, name -> shape, or a function of the stored settings
        returning them (it raises :class:`ValueError` or :class:`TypeError` for bad settings).
        The file must hold exactly these arrays besides its three metadata entries.
    kind : str, optional
        If given, the file must hold a model of this class.

    Returns
    -------
    (kind, config, arrays)
        ``arrays`` maps each name of ``shapes`` to an array of that shape (numeric, finite,
        the dtype stored).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a dropout_py model, has another format version or kind, its settings
        are malformed or ask for more than :data:`MAX_PARAMETERS` parameters, it holds a
        member that does not belong or lacks one, or an array's header or data does not fit.
    """
    path = Path(path)
    with _Archive(path) as archive:
        found_kind, config = archive.metadata()
        if kind is not None and found_kind != kind:
            raise ValueError(f"{path}: holds a {found_kind}, not a {kind}")
        if callable(shapes):
            try:
                shapes = shapes(config)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}: invalid settings in model file ({exc})") from None
        _check_size(path, shapes)
        headers = archive.parameter_headers(shapes)
        arrays = {name: archive.read_array(name, header) for name, header in headers.items()}
    return found_kind, config, arrays


def load_model_file(
    path: str | os.PathLike[str], cls: type[Any]
) -> tuple[Any, dict, TrainingState]:
    """Read a model of class ``cls`` from ``path`` and build it; the caller copies the arrays in.

    ``cls`` provides ``parameter_shapes(settings)``, the shape of every parameter it saves, by
    name, computed from its constructor settings without allocating anything. The settings are
    checked against ``cls``'s constructor, the shapes against the file, and only then is
    ``cls(**settings, seed=0)`` built.

    Returns
    -------
    (model, arrays, state)
        The new model (random weights), the stored parameters by name, and the training state
        (``epochs_trained`` 0 and an empty history if the file has none).

    Raises
    ------
    FileNotFoundError, ValueError
        As for :func:`load_npz`.
    """
    path = Path(path)
    settings: dict[str, Any] = {}
    state: list[TrainingState] = []

    def shapes(config: dict[str, Any]) -> Shapes:
        stored = dict(config)
        state.append(_training_state({k: stored.pop(k) for k in _STATE if k in stored}))
        settings.update(_bound_settings(cls, stored))
        return cls.parameter_shapes(settings)

    _, _, arrays = load_npz(path, shapes=shapes, kind=cls.__name__)
    try:
        model = cls(**settings, seed=0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid settings in model file ({exc})") from None
    return model, arrays, state[0]


# --- checks on the settings ---------------------------------------------------------------------


def _bound_settings(cls: type, stored: dict[str, Any]) -> dict[str, Any]:
    """The stored settings completed with ``cls``'s defaults; unknown or missing ones refused."""
    if "seed" in stored:
        raise ValueError("unknown setting 'seed'")
    signature = inspect.signature(cls)
    unknown = sorted(set(stored) - set(signature.parameters))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}")
    bound = signature.bind(**stored)  # TypeError for a missing one
    bound.apply_defaults()
    return {k: v for k, v in bound.arguments.items() if k != "seed"}


def _training_state(stored: dict[str, Any]) -> TrainingState:
    epochs = stored.get("epochs_trained", 0)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"epochs_trained must be a whole number >= 0, got {epochs!r}")
    history = stored.get("history", [])
    if not isinstance(history, list):
        raise ValueError(f"history must be a list, got {_json_type(history)}")
    for number, record in enumerate(history, 1):
        if not isinstance(record, dict) or not all(
            value is None or (isinstance(value, numbers.Real) and not isinstance(value, bool))
            for value in record.values()
        ):
            raise ValueError(
                f"history record {number} must map names to numbers, got {_json_type(record)}"
            )
    return TrainingState(epochs, history)


def _check_size(path: Path, shapes: Shapes) -> None:
    total = 0
    for name, shape in shapes.items():
        if not all(isinstance(n, int) and n >= 0 for n in shape):
            raise ValueError(f"{path}: parameter {name!r} would have shape {shape}")
        total += math.prod(shape)
    if total > MAX_PARAMETERS:
        raise ValueError(
            f"{path}: the settings in the model file ask for {total:,} parameters; "
            f"model files hold at most {MAX_PARAMETERS:,}"
        )


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), f"a number ({value!r})")


# --- the archive -------------------------------------------------------------------------------


class _Header(NamedTuple):
    shape: tuple[int, ...]
    fortran_order: bool
    dtype: np.dtype
    offset: int  # where the data starts in the member


class _Archive:
    """An open model file: members listed, read one by one, each header checked first."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"no model file at {path}")
        self.path = path
        self.size = path.stat().st_size
        count = _member_count(path, self.size)
        if count is not None and count > MAX_MEMBERS:
            many = "65,535 or more" if count == 0xFFFF else f"{count:,}"  # 0xFFFF: ZIP64
            raise ValueError(
                f"{path}: {many} members in the archive; a model file has at most {MAX_MEMBERS:,}"
            )
        try:
            self.zip = zipfile.ZipFile(path)
        except _ARCHIVE_ERRORS as exc:
            raise self._unreadable(exc) from None
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            name = info.filename.removesuffix(".npy")
            if name in self.members:
                self.zip.close()
                raise ValueError(f"{path}: member {info.filename!r} appears twice")
            self.members[name] = info

    def __enter__(self) -> _Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.zip.close()

    def _unreadable(self, exc: BaseException) -> ValueError:
        return ValueError(f"{self.path}: not a readable .npz model file ({exc})")

    def metadata(self) -> tuple[str, dict[str, Any]]:
        """Check the format version; return the kind and the settings (a dict)."""
        missing = [m for m in _META if m not in self.members]
        if missing:
            raise ValueError(
                f"{self.path}: not a dropout_py model file (missing {', '.join(missing)})"
            )
        version = self._scalar("__format__", "iu", 8, "a whole number")
        if version != FORMAT_VERSION:
            raise ValueError(
                f"{self.path}: model format {version} is not supported (this version reads "
                f"format {FORMAT_VERSION})"
            )
        kind = self._scalar("__kind__", "U", 4 * MAX_KIND_CHARS, "a class name")
        text = self._scalar("__config__", "U", 4 * MAX_CONFIG_CHARS, "the settings as JSON")
        try:
            config = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"{self.path}: corrupt model configuration ({exc})") from None
        if not isinstance(config, dict):
            raise ValueError(
                f"{self.path}: the settings (__config__) in the model file must be a JSON "
                f"object, got {_json_type(config)}"
            )
        return kind, config

    def _scalar(self, name: str, kinds: str, max_itemsize: int, what: str) -> Any:
        header = self._header(name)
        dtype = header.dtype
        if header.shape != () or dtype.kind not in kinds or dtype.itemsize > max_itemsize:
            raise ValueError(
                f"{self.path}: field {name} must be {what} (a scalar), got an array of "
                f"{_describe(dtype)} with shape {header.shape}"
            )
        self._check_stored_size(name, header)
        return self.read_array(name, header).item()

    def parameter_headers(self, shapes: Shapes) -> dict[str, _Header]:
        """Check that the file holds exactly ``shapes`` and each header fits; read no data."""
        unknown = sorted(set(self.members) - set(_META) - set(shapes))
        if unknown:
            raise ValueError(f"{self.path}: unknown member {unknown[0]!r} in model file")
        headers = {}
        for name, shape in shapes.items():
            if name not in self.members:
                raise ValueError(f"{self.path}: parameter {name!r} is missing")
            header = self._header(name)
            dtype = header.dtype
            if dtype.kind not in "fiu":
                raise ValueError(
                    f"{self.path}: parameter {name!r} is stored as {_describe(dtype)}, "
                    "expected numbers"
                )
            if header.shape != tuple(shape):
                raise ValueError(
                    f"{self.path}: parameter {name!r} has shape {header.shape}, expected "
                    f"{tuple(shape)}"
                )
            self._check_stored_size(name, header)
            headers[name] = header
        return headers

    def _header(self, name: str) -> _Header:
        """Parse a member's ``.npy`` header and check its size in the archive against it."""
        info = self.members[name]
        try:
            with self.zip.open(info) as f:
                prefix = f.read(12)
                length_bytes = 2 if prefix[6:8] == b"\x01\x00" else 4
                length = int.from_bytes(prefix[8 : 8 + length_bytes], "little")
                if length > _MAX_NPY_HEADER:
                    raise ValueError(f"member {name!r} has a {length}-byte .npy header")
                text = prefix + f.read(length + length_bytes - 4)
        except _ARCHIVE_ERRORS as exc:
            raise self._unreadable(exc) from None
        offset = 8 + length_bytes + length
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                stream = io.BytesIO(text)
                version = np.lib.format.read_magic(stream)
                if version == (1, 0):
                    parsed = np.lib.format.read_array_header_1_0(stream, _MAX_NPY_HEADER)
                elif version == (2, 0):
                    parsed = np.lib.format.read_array_header_2_0(stream, _MAX_NPY_HEADER)
                else:
                    raise ValueError(f"unsupported .npy format version {version}")
        except Exception as exc:  # numpy's header parser on hostile text: anything goes
            reason = str(exc).splitlines()[0][:200]
            raise ValueError(
                f"{self.path}: member {name!r} has a broken .npy header ({reason})"
            ) from None
        header = _Header(*parsed, offset)
        dtype = header.dtype
        if dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(
                f"{self.path}: member {name!r} is stored as {_describe(dtype)}, expected numbers"
            )
        if any(n < 0 for n in header.shape):
            raise ValueError(f"{self.path}: member {name!r} has a negative size {header.shape}")
        return header

    def _check_stored_size(self, name: str, header: _Header) -> None:
        """The member must hold exactly the bytes its header promises, within the file."""
        info = self.members[name]
        needed = header.offset + math.prod(header.shape) * header.dtype.itemsize
        stored_fully = info.compress_type != zipfile.ZIP_STORED or info.compress_size == needed
        if info.file_size != needed or not stored_fully:
            raise ValueError(
                f"{self.path}: member {name!r} holds {info.file_size} bytes, but its header "
                f"(shape {header.shape}, {header.dtype}) needs {needed}"
            )
        if info.header_offset + info.compress_size > self.size:
            raise ValueError(f"{self.path}: member {name!r} runs past the end of the file")

    def read_array(self, name: str, header: _Header) -> np.ndarray:
        """Read the data of a member whose header :meth:`_header` checked."""
        count = math.prod(header.shape)
        out = np.empty(count, dtype=header.dtype)
        view = out.view(np.uint8).data
        try:
            with self.zip.open(self.members[name]) as f:
                f.seek(header.offset)
                done = 0
                while done < len(view):
                    chunk = f.read(min(_CHUNK, len(view) - done))
                    if not chunk:
                        raise EOFError(f"member {name!r} ends early")
                    view[done : done + len(chunk)] = chunk
                    done += len(chunk)
                f.read(1)  # reaching the end makes zipfile check the CRC
        except _ARCHIVE_ERRORS as exc:
            raise self._unreadable(exc) from None
        array = out.reshape(header.shape, order="F" if header.fortran_order else "C")
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            raise ValueError(f"{self.path}: parameter {name!r} is not a finite numeric array")
        return array


def _member_count(path: Path, size: int) -> int | None:
    """The number of members the archive's end record declares (None: no end record).

    Read before :mod:`zipfile` parses, and allocates, the archive's whole directory.
    """
    with open(path, "rb") as f:
        f.seek(max(0, size - _END_RECORD_SEARCH))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 22:
        return None  # zipfile reports the broken archive
    return int.from_bytes(tail[at + 10 : at + 12], "little")  # 0xFFFF: a ZIP64 archive


def _describe(dtype: np.dtype) -> str:
    names = {"U": "text", "S": "bytes", "O": "Python objects", "V": "raw records", "b": "booleans"}
    return f"{names.get(dtype.kind, 'numbers')} ({dtype.str})"
