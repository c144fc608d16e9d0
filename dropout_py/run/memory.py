"""How much memory a run needs, and how much this machine can give it: checked before allocating.

:func:`run_bytes` adds up what a run holds at its peak, from the settings alone: the data as the
engine trains on it, the parameters (with the fast trainer's gradient and momentum buffers), the
first weights' draw, a mini-batch's activations and a scoring chunk's. :func:`available_bytes`
reads what the operating system would give (free memory, a container's or ``ulimit``'s limit);
:func:`check_fits` refuses a run that cannot fit with one line naming the size asked for, instead
of a ``MemoryError`` minutes in.

The estimate is meant to be a little above the truth (measured against ``/usr/bin/time`` on
runs from 784-100-10 to 784-20000-10, see ``benchmarks/probe_hostile_inputs.py``), so that what
it refuses could never have run, while anything that can run is allowed.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dropout_py.nn.engine import EVAL_CHUNK
from dropout_py.run.checks import SettingError

if TYPE_CHECKING:
    from dropout_py.run.experiment import RunSettings

PIXELS, CLASSES = 784, 10
MNIST_IMAGES = 70_000  # loaded whole (60,000 training, 10,000 test), whatever train_size says
TEST_IMAGES = 10_000
#: Bytes the first weights' draw takes per weight at its peak (float64 proposals, their
#: acceptance test and the kept draws; about 50 measured on a 5000-5000 layer).
INIT_BYTES_PER_WEIGHT = 56


def run_bytes(settings: RunSettings, n_train: int | None = None) -> int:
    """Bytes a run with ``settings`` holds at its peak, beyond the Python process itself.

    Parameters
    ----------
    settings : RunSettings
        Checked settings (see :func:`~dropout_py.run.checks.check_settings`).
    n_train : int, optional
        Training images (default: ``settings.train_size`` or all 60,000).
    """
    n = n_train or settings.train_size or MNIST_IMAGES - TEST_IMAGES
    layers = list(itertools.pairwise(layer_sizes(settings)))
    widest = max(settings.hidden)
    largest_layer = max(n_in * n_out for n_in, n_out in layers)
    init = largest_layer * (8 if settings.init == "he" else INIT_BYTES_PER_WEIGHT)
    chunk = min(EVAL_CHUNK, max(n, TEST_IMAGES))
    if settings.engine == "tutorial":  # float64, the weights sliced and copied per partition
        weights = 8 * parameter_count(settings)
        data = MNIST_IMAGES * PIXELS + 8 * (n + TEST_IMAGES) * (PIXELS + CLASSES)
        held = 3 * weights + init
        scoring = 8 * chunk * (PIXELS + 2 * widest) + 8 * (n + TEST_IMAGES) * CLASSES
        return data + held + scoring
    item = _itemsize(settings)
    params = item * parameter_count(settings)
    data = MNIST_IMAGES * PIXELS + item * (n + TEST_IMAGES) * CLASSES
    batch = min(settings.batch_size, n)
    dropping = settings.keep_input < 1 or settings.keep_hidden < 1
    # a batch: the inputs as floats, then per hidden layer its sums, the delta sent back and
    # the slope (with dropout also a mask, its random draw and the masked copy)
    training = item * batch * (2 * PIXELS + (7 if dropping else 4) * sum(settings.hidden))
    scoring = item * chunk * (2 * PIXELS + _widest_pair(settings.hidden))
    scoring += 2 * item * (n + TEST_IMAGES) * CLASSES
    held = 3 * params + max(init, training, scoring)
    return data + held


def layer_sizes(settings: RunSettings) -> tuple[int, ...]:
    """Units per layer of the network ``settings`` describe, MNIST's 784 inputs first."""
    return (PIXELS, *settings.hidden, CLASSES)


def parameter_count(settings: RunSettings) -> int:
    """Weights and biases of the network (bias nodes of the tutorial engine included)."""
    return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(layer_sizes(settings)))


def model_bytes(settings: RunSettings) -> int:
    """Bytes of the parameters as a model file stores them (float64 for the tutorial engine)."""
    return _itemsize(settings) * parameter_count(settings)


def _itemsize(settings: RunSettings) -> int:
    return 8 if settings.engine == "tutorial" or settings.dtype == "float64" else 4


def _widest_pair(hidden: tuple[int, ...]) -> int:
    """Units of the two neighbouring hidden layers alive together in a forward pass."""
    return max(a + b for a, b in zip(hidden, (*hidden[1:], 0), strict=True))


def available_bytes() -> int | None:
    """Bytes this process could still allocate (None: unknown, e.g. no ``/proc``).

    The least of: the system's available memory plus free swap, a cgroup (container) limit
    minus its usage, and the ``ulimit -v`` address-space limit minus what the process maps now.
    """
    if sys.platform == "emscripten":  # pragma: no cover - a browser tab: no /proc, no ulimit
        return None
    import resource

    limits = []
    meminfo = _meminfo()
    if "MemAvailable" in meminfo:
        limits.append(meminfo["MemAvailable"] + meminfo.get("SwapFree", 0))
    cgroup = _cgroup_room()
    if cgroup is not None:
        limits.append(cgroup)
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        limits.append(soft - _meminfo(f"/proc/{os.getpid()}/status").get("VmSize", 0))
    return max(0, min(limits)) if limits else None


def check_fits(
    settings: RunSettings,
    n_train: int | None = None,
    *,
    available: int | None = None,
    name: str = "hidden",
) -> None:
    """Raise :class:`~dropout_py.run.checks.SettingError` if the run cannot fit in memory.

    Parameters
    ----------
    settings : RunSettings
    n_train : int, optional
        As for :func:`run_bytes`.
    available : int, optional
        Bytes to compare with (default: :func:`available_bytes`; unknown means no check).
    name : str
        How the message names the layer sizes (``--hidden`` on the command line).
    """
    needed = run_bytes(settings, n_train)
    room = available_bytes() if available is None else available
    if room is None or needed <= room:
        return
    sizes = "-".join(map(str, layer_sizes(settings)))
    what = "float64" if settings.engine == "tutorial" else settings.dtype
    batch = "" if settings.engine == "tutorial" else f", batches of {settings.batch_size}"
    raise SettingError(
        "hidden",
        f"{name} {' '.join(map(str, settings.hidden))} asks for a {sizes} network "
        f"({what}{batch}): training it needs about {format_bytes(needed)} of memory, "
        f"and {format_bytes(room)} is available",
    )


def format_bytes(n: int) -> str:
    """``n`` bytes for people: ``"940 GB"``, ``"1.3 GB"``, ``"52 MB"``."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            value = n / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{n} bytes"


def _meminfo(path: str = "/proc/meminfo") -> dict[str, int]:
    """``key: value kB`` lines of a ``/proc`` file, in bytes ({} if it cannot be read)."""
    values = {}
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            values[key] = int(parts[0]) * 1024
    return values


def _cgroup_room() -> int | None:
    """A cgroup's memory limit minus its usage (v2, then v1); None without a limit."""
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 1 << 60:  # v1 says "no limit" with a huge number
            return int(limit) - usage
    return None
