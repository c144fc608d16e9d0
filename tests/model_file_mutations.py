"""Random mutations of valid model files, for the fuzz test in ``test_model_files.py``.

A model file is handled as a list of ``(member name, .npy bytes, deflated?)``. A mutation
rewrites the settings JSON, a metadata entry, an array's ``.npy`` header, the members' names or
sizes, the compression, or the raw bytes of the finished archive; one to three are combined.
"""

from __future__ import annotations

import ast
import io
import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

from dropout_py import DropoutMLP, NeuralNetwork

Member = tuple[str, bytes, bool]
Draw = Callable[[st.SearchStrategy], object]

INTERESTING = [0, -1, 1, 2, 3, 4, 5, 7, 10**8, 10**13, 2**63, 1e308, 0.5, "784", [], {}, None]
SHAPES = [(), (0,), (1,), (3,), (5, 4), (4, 5), (3, 6), (10**13,), (2**40, 2**40), (-1, 3)]
DESCRS = ["<f4", "<f8", ">f8", "<f2", "<i8", "|u1", "|b1", "<U5", "|S3", "|O", "|V8", "<c16"]
DESCRS += [[("a", "<f4")], ("<f4", (2, 2)), "q9", 5, "<U999999999999"]
KEYS = ["layer_sizes", "epochs_trained", "history", "bias", "no_of_hidden_nodes", "seed", "new"]
KEYS += ["dtype", "activation", "learning_rate", "no_of_in_nodes", "momentum", "keep_hidden"]
ARRAYS = [
    np.array(1),
    np.array(2),
    np.array([1, 1]),
    np.array("1"),
    np.array(1.0),
    np.array("DropoutMLP"),
    np.array("NeuralNetwork"),
    np.array(["DropoutMLP"]),
    np.array("{}"),
    np.array("null"),
    np.zeros((3, 6), np.float32),
    np.full((5, 4), np.nan),
    np.array([True]),
]

names = st.text(st.characters(exclude_characters="\x00/"), min_size=1, max_size=8)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(INTERESTING),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=8,
)


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def npy_with_header(header: bytes, data: bytes) -> bytes:
    pad = -(10 + len(header) + 1) % 64
    header = header + b" " * pad + b"\n"
    prefix = np.lib.format.MAGIC_PREFIX + b"\x01\x00" + len(header).to_bytes(2, "little")
    return prefix + header + data


def base_files(folder: Path) -> dict[str, list[Member]]:
    """Small valid model files of both engines, as member lists."""
    rng = np.random.default_rng(0)
    X, y = rng.random((40, 4)), rng.integers(0, 2, 40)
    trained = DropoutMLP((4, 3, 3, 2), dtype="float64", seed=1)
    trained.fit(X, y, epochs=2)
    models = {
        "mlp": DropoutMLP((6, 5, 3), seed=0),
        "trained": trained,
        "tutorial": NeuralNetwork(4, 3, 5, 0.1, bias=1, seed=0),
    }
    bases = {}
    for name, model in models.items():
        path = model.save(folder / f"{name}.npz")
        with zipfile.ZipFile(path) as archive:
            bases[name] = [(i.filename, archive.read(i), False) for i in archive.infolist()]
    return bases


def _split(member: bytes) -> tuple[dict | None, bytes]:
    """The header dict of a ``.npy`` member (None if unreadable) and its data."""
    try:
        length = int.from_bytes(member[8:10], "little")
        header = ast.literal_eval(member[10 : 10 + length].decode("latin1"))
        return (header if isinstance(header, dict) else None), member[10 + length :]
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None, member[10:]


def _index(draw: Draw, members: list[Member]) -> int:
    return draw(st.integers(0, len(members) - 1))


def mutate_config(draw: Draw, members: list[Member]) -> None:
    names = [m[0] for m in members]
    if "__config__.npy" not in names:
        return
    i = names.index("__config__.npy")
    try:
        config = json.loads(str(np.load(io.BytesIO(members[i][1]))))
    except Exception:
        config = {}
    how = draw(st.sampled_from(["set", "delete", "layer", "replace", "text"]))
    if how == "replace" or not isinstance(config, dict):
        config = draw(json_values)
    elif how == "set":
        config[draw(st.sampled_from(KEYS) | st.text(max_size=5))] = draw(json_values)
    elif how == "delete" and config:
        del config[draw(st.sampled_from(sorted(config)))]
    elif how == "layer" and isinstance(config.get("layer_sizes"), list):
        sizes = config["layer_sizes"]
        sizes[draw(st.integers(0, len(sizes) - 1))] = draw(st.sampled_from(INTERESTING))
    text = json.dumps(config) if how != "text" else draw(st.text(max_size=30))
    members[i] = (members[i][0], npy(np.array(text)), members[i][2])


def mutate_metadata(draw: Draw, members: list[Member]) -> None:
    name = draw(st.sampled_from(["__format__.npy", "__kind__.npy", "__config__.npy"]))
    value = draw(st.sampled_from(ARRAYS))
    members[:] = [(n, npy(value) if n == name else data, z) for n, data, z in members]


def mutate_header(draw: Draw, members: list[Member]) -> None:
    i = _index(draw, members)
    name, data, deflated = members[i]
    header, payload = _split(data)
    if header is None or (draw(st.booleans()) and draw(st.booleans())):
        text = draw(st.binary(max_size=80))
    else:
        field = draw(st.sampled_from(["shape", "descr", "fortran_order", "extra"]))
        if field == "shape":
            header["shape"] = draw(st.sampled_from(SHAPES))
        elif field == "descr":
            header["descr"] = draw(st.sampled_from(DESCRS))
        elif field == "fortran_order":
            header["fortran_order"] = draw(st.sampled_from([True, False, 0, "no", None]))
        else:
            header[draw(st.text(max_size=4))] = 1
        text = repr(header).encode("latin1", "replace")
    members[i] = (name, npy_with_header(text, payload), deflated)


def mutate_names(draw: Draw, members: list[Member]) -> None:
    how = draw(st.sampled_from(["rename", "drop", "duplicate", "extra", "huge"]))
    i = _index(draw, members)
    name, data, deflated = members[i]
    if how == "rename":
        new = draw(
            st.sampled_from(["W0.npy", "b0.npy", "W9.npy", "wih.npy", "__kind__.npy", "W0", "x"])
            | names
        )
        members[i] = (new, data, deflated)
    elif how == "drop":
        del members[i]
    elif how == "duplicate":
        members.append((name, data, deflated))
    elif how == "extra":
        members.append((draw(names) + ".npy", npy(np.zeros(3)), False))
    else:
        claim = b"{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }"
        members.append(("junk.npy", npy_with_header(claim, bytes(16)), draw(st.booleans())))


def mutate_size(draw: Draw, members: list[Member]) -> None:
    i = _index(draw, members)
    name, data, deflated = members[i]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    else:
        data = data + draw(st.binary(min_size=1, max_size=64))
    members[i] = (name, data, deflated)


def mutate_compression(draw: Draw, members: list[Member]) -> None:
    members[:] = [(n, d, draw(st.booleans())) for n, d, _ in members]


MUTATIONS = [
    mutate_config,
    mutate_metadata,
    mutate_header,
    mutate_names,
    mutate_size,
    mutate_compression,
]


def archive_bytes(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buffer, "w") as archive:
            for name, data, deflated in members:
                method = zipfile.ZIP_DEFLATED if deflated else zipfile.ZIP_STORED
                archive.writestr(name, data, compress_type=method)
    return buffer.getvalue()


def mutated_archive(draw: Draw, base: list[Member]) -> bytes:
    """A mutated copy of ``base``: one to three member-level mutations, maybe raw damage."""
    members = list(base)
    for _ in range(draw(st.integers(1, 3))):
        if members:
            draw(st.sampled_from(MUTATIONS))(draw, members)
    raw = bytearray(archive_bytes(members))
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip"]))
    if damage == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == "flip" and raw:
        for _ in range(draw(st.integers(1, 4))):
            raw[draw(st.integers(0, len(raw) - 1))] ^= draw(st.integers(1, 255))
    return bytes(raw)
