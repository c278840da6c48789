"""Export trained weights with their Experiment, in formats other tools read, and load them back.

The format follows the suffix:
- .pt           a plain state_dict (torch.load(path, weights_only=True)); the Experiment is
                written beside it as a preset TOML of the same stem, and also inside the .pt's
                zip archive (an extra record torch.load ignores): the two are replaced together
                or not at all (a full disk leaves the previous pair as it was)
- .safetensors  tensors, with the Experiment (TOML) in the metadata
- .onnx         the network for onnxruntime, with the Experiment (TOML) in metadata_props
- .npz          one array per state_dict entry, plus the Experiment as JSON
- .py           not weights: a plain PyTorch script (and its data) that reproduces the run
Every write is atomic, and `~` in a path means the home folder.

torch, safetensors, onnx and onnxruntime are imported inside the functions that use them:
`presets` imports this module to read experiments, before the app has imported torch
(docs/architecture.md), and onnx/onnxruntime cost seconds that only their format needs.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, dumps, from_dict, load_file, loads, to_dict
from nnplay.files import check_writable, signals_held, write_atomic, write_atomic_files
from nnplay.i18n import _
from nnplay.memory import check_fits, model_bytes
from nnplay.model import Predictor, build_model, state_shapes, torch_run
from nnplay.onnx_check import OnnxRefused
from nnplay.onnx_weights import METADATA_KEY, onnx_bytes, onnx_predictor, read_onnx
from nnplay.script_export import data_path, write_script
from nnplay.untrusted import MAX_TEXT_BYTES, parse_json, shown
from nnplay.weight_archives import (
    NPY_HEADER_BYTES,
    READ_CHUNK,
    NotOurs,
    archive_members,
    check_pt_pickle,
    check_sizes,
    check_streams,
    pt_limits,
)

# torch, safetensors, onnx and onnxruntime are imported inside the functions that use them: presets
# import this module, and the app draws its first frame before torch loads (docs/architecture.md).

FORMATS = (".pt", ".safetensors", ".onnx", ".npz")  # weights that load back for prediction
EXPORT_SUFFIXES = (*FORMATS, ".py")
NPZ_KEY = "__nnplay_experiment__"


PT_EXPERIMENT = "nnplay_experiment.toml"  # the record inside a .pt archive


def check_export_path(path: str | Path) -> Path:
    path = Path(path).expanduser()
    if path.suffix not in EXPORT_SUFFIXES:
        message = _("{path}: unknown export format {value}; allowed suffixes: {allowed}")
        raise ExperimentError(
            message.format(
                path=shown(path, 300),
                value=repr(shown(path.suffix or _("(none)"))),
                allowed=", ".join(EXPORT_SUFFIXES),
            )
        )
    return path


def export_files(path: str | Path) -> list[Path]:
    """Every file an export to `path` writes (a .pt's experiment, a script's data)."""
    path = check_export_path(path)
    if path.suffix == ".pt":
        return [path, path.with_suffix(".toml")]
    if path.suffix == ".py":
        return [path, data_path(path)]
    return [path]


def check_export_targets(paths: list[str], read_from: list[Path] | None = None) -> list[Path]:
    """Refuse, before any training, exports that cannot be written: an unknown suffix, two
    exports writing one file, a file the run was read from, a folder, a parent that is a file,
    a name too long, a folder nnplay cannot create files in. Returns the paths, `~` expanded."""
    out: list[Path] = []
    owners: dict[str, str] = {}
    inputs = {_identity(p) for p in read_from or []}
    for raw in paths:
        path = check_export_path(raw)
        for target in export_files(path):
            key = _identity(target)
            if key in owners:
                message = _(
                    "--export {value}: it writes {target}, which --export {other} writes too"
                )
                raise ExperimentError(
                    message.format(
                        value=shown(raw, 300),
                        target=shown(target, 300),
                        other=shown(owners[key], 300),
                    )
                )
            owners[key] = raw
            if key in inputs:
                message = _(
                    "--export {value}: it would overwrite {target}, which this run was read "
                    "from; export under another name"
                )
                raise ExperimentError(
                    message.format(value=shown(raw, 300), target=shown(target, 300))
                )
            check_writable(target)
        out.append(path)
    return out


def _identity(path: Path) -> str:
    return os.path.normcase(os.path.abspath(Path(path).expanduser()))


def export(model, exp: Experiment, path: str | Path) -> list[Path]:
    """Write `model` (with `exp`) to `path` in the format its suffix names; returns the files.

    Ctrl+C and SIGTERM wait until the export is done: a file pair stays one unit, and no
    signal lands inside torch's ONNX tracer (an exception raised there crashed the process)."""
    path = check_export_path(path)
    for target in export_files(path):
        check_writable(target)  # a clear reason now, rather than a bare OS error mid-write
    with signals_held():
        return _export(model, exp, path)


def _export(model, exp: Experiment, path: Path) -> list[Path]:
    if path.suffix == ".py":
        return write_script(exp, path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".pt":
        pair = {path: _pt_bytes(state, exp), path.with_suffix(".toml"): dumps(exp).encode()}
        return write_atomic_files(pair)
    if path.suffix == ".safetensors":
        from safetensors.torch import save

        return [write_atomic(path, save(state, metadata={METADATA_KEY: dumps(exp)}))]
    if path.suffix == ".onnx":
        return [write_atomic(path, onnx_bytes(model, exp))]
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {k: v.numpy() for k, v in state.items()}
    arrays[NPZ_KEY] = np.array(json.dumps(to_dict(exp)))
    np.savez(buffer, **arrays)
    return [write_atomic(path, buffer.getvalue())]


def _pt_bytes(state: dict, exp: Experiment) -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    with zipfile.ZipFile(buffer, "a") as z:
        folder = z.namelist()[0].split("/")[0]
        z.writestr(f"{folder}/{PT_EXPERIMENT}", dumps(exp))
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading back: every file is untrusted. The experiment is read first (bounded), then each
# tensor's name, shape and dtype are checked against it from headers, before anything of the
# declared size is allocated or a network is built.


def read_experiment(path: str | Path) -> Experiment:
    if Path(path).suffix == ".onnx":  # from its metadata, the file checked, no onnxruntime
        return _onnx(Path(path).expanduser(), read_onnx)[0]
    return load_predictor(path).exp


def _onnx(path: Path, reader):
    if not path.is_file():
        raise ExperimentError(_("{path}: no such file").format(path=shown(path, 300)))
    try:
        return reader(path)
    except OnnxRefused as e:
        raise _foreign(path, str(e)) from None


def _foreign(path: Path, why: str) -> ExperimentError:
    message = _(
        "{path}: not an nnplay export ({reason}); nnplay reads {formats} files that it wrote"
    )
    return ExperimentError(
        message.format(path=shown(path, 300), reason=why, formats=", ".join(FORMATS))
    )


def load_predictor(path: str | Path) -> Predictor:
    path = Path(path).expanduser()
    if not path.is_file():
        raise ExperimentError(_("{path}: no such file").format(path=shown(path, 300)))
    if path.suffix not in FORMATS:
        suffix = shown(path.suffix) or _("no suffix")
        raise _foreign(path, _("{suffix} is not a weights format").format(suffix=suffix))
    try:
        with warnings.catch_warnings():  # only nnplay's one line reaches the terminal
            warnings.simplefilter("ignore")
            if path.suffix == ".onnx":
                predictor, weights = _onnx(path, onnx_predictor)
                _check_finite(path, weights)
                return predictor
            exp, state = _read_state(path)
    except ExperimentError:
        raise
    except Exception as e:  # a foreign or damaged file: torch, safetensors, numpy, onnx differ
        raise _foreign(path, _unreadable(e)) from None
    _check_finite(path, state)
    model = build_model(exp)
    model.load_state_dict(state)
    return Predictor(exp, torch_run(model))


def _unreadable(error: Exception) -> str:
    """What was wrong with a file its reader refused, in words (not an exception's name)."""
    if isinstance(error, NotOurs):
        return str(error)
    if isinstance(error, zipfile.BadZipFile):
        return _("not a zip archive, or a damaged one")
    if isinstance(error, (zlib.error, EOFError)):
        return _("its compressed data is damaged")
    detail = shown(str(error).splitlines()[0] if str(error) else "", 100)
    if detail:
        return _("its reader refused it: {detail}").format(detail=detail)
    return _("its reader refused it")


def _check_finite(path: Path, state: dict) -> None:
    """NaN or infinite weights answer nothing meaningful: refuse them rather than predict.
    `state` holds torch tensors or NumPy arrays (an .onnx file's)."""
    for name, tensor in state.items():
        values = np.asarray(tensor)
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            value = "NaN" if np.isnan(values).any() else "inf"
            message = _("{path}: the weights hold {value} ({name}): this file cannot predict")
            raise ExperimentError(message.format(path=shown(path, 300), value=value, name=name))


def _shape_problem(name: str, shape: tuple, expected: tuple) -> str:
    message = _("{name} has shape {shape}; its experiment needs {expected}")
    return message.format(name=name, shape=shape, expected=expected)


def _expected_dtype(name: str) -> str:
    return "int64" if name.endswith("num_batches_tracked") else "float32"


def _check_fits(path: Path, exp: Experiment, found: dict[str, tuple[tuple, str]]) -> None:
    """`found` (name -> (shape, dtype)) must be exactly the tensors `exp`'s network has."""
    expected = state_shapes(exp)
    for name in found:
        if name not in expected:
            message = _("it holds a tensor {name} that its experiment's network does not have")
            raise _foreign(path, message.format(name=repr(shown(name, 40))))
    for name, shape in expected.items():
        if name not in found:
            raise _foreign(path, _("{name} is missing").format(name=name))
        got_shape, dtype = found[name]
        if tuple(got_shape) != shape:
            raise _foreign(path, _shape_problem(name, tuple(got_shape), shape))
        if dtype != _expected_dtype(name):
            message = _("{name} is {dtype}; nnplay writes {expected}")
            raise _foreign(
                path,
                message.format(name=name, dtype=shown(dtype, 20), expected=_expected_dtype(name)),
            )


def _check_size(path: Path, exp: Experiment) -> None:
    """A weights file is about the size of its network; much larger is not ours."""
    check_fits(2 * model_bytes(exp), _("{path}: its network").format(path=shown(path, 300)))
    if path.stat().st_size > 2 * model_bytes(exp) + 2**20:
        message = _("{size} bytes is far more than its experiment's network needs")
        raise _foreign(path, message.format(size=path.stat().st_size))


def _read_state(path: Path):
    if path.suffix == ".pt":
        return _read_pt(path)
    if path.suffix == ".safetensors":
        return _read_safetensors(path)
    return _read_npz(path)


def _pt_experiment(path: Path, z: zipfile.ZipFile) -> Experiment | None:
    """The experiment recorded inside a .pt archive (None: an older export without one)."""
    entries = [i for i in z.infolist() if i.filename.endswith("/" + PT_EXPERIMENT)]
    if not entries:
        return None
    if len(entries) > 1 or entries[0].file_size > MAX_TEXT_BYTES:
        raise _foreign(path, _("its experiment record is not nnplay's"))
    with z.open(entries[0]) as f:
        data = f.read(MAX_TEXT_BYTES + 1)
    try:
        text = data[:MAX_TEXT_BYTES].decode("utf-8")
    except UnicodeDecodeError:
        raise _foreign(path, _("its experiment record is not text")) from None
    return loads(text, source=str(path))


def _read_pt(path: Path):
    # The archive, its directory and its pickle's names are checked before torch is imported.
    with zipfile.ZipFile(path) as z:
        members = archive_members(z, path)
        exp = _pt_experiment(path, z)
        if exp is None:
            beside = path.with_suffix(".toml")
            if not beside.is_file():
                message = _("its experiment {name} is missing beside it")
                raise _foreign(path, message.format(name=shown(beside.name)))
            exp = load_file(beside)
        _check_size(path, exp)
        check_pt_pickle(z, members, exp)
        check_sizes(members, exp, pt_limits(members, exp, PT_EXPERIMENT), header_bytes=0)
        check_streams(z, members)
    import torch

    # Not memory-mapped: torch's mmap reader takes a deflated record's compressed bytes as the
    # weights, where torch.load inflates them; every record's size is bounded above.
    state = torch.load(path, weights_only=True, map_location="cpu")
    if not (
        isinstance(state, dict)
        and all(isinstance(k, str) for k in state)
        and all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        message = _("it holds {kind}, not a table of named tensors")
        raise _foreign(path, message.format(kind=repr(type(state).__name__)))
    _check_fits(
        path,
        exp,
        {k: (tuple(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in state.items()},
    )
    return exp, state


_SAFETENSORS_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}
MAX_HEADER_BYTES = 4 * 2**20


def _read_safetensors(path: Path):
    from safetensors import safe_open

    with open(path, "rb") as f:
        header = int.from_bytes(f.read(8), "little")
    if header > MAX_HEADER_BYTES:
        raise _foreign(path, _("a header of {size} bytes").format(size=header))
    with safe_open(str(path), framework="pt") as f:
        meta = (f.metadata() or {}).get(METADATA_KEY)
        if meta is None:
            raise _foreign(path, _("no experiment in its metadata"))
        exp = loads(meta, source=str(path))
        _check_size(path, exp)
        found = {}
        for k in f.keys():  # noqa: SIM118 (a safetensors handle, not a dict)
            part = f.get_slice(k)
            found[k] = (
                tuple(part.get_shape()),
                _SAFETENSORS_DTYPES.get(part.get_dtype(), part.get_dtype()),
            )
        _check_fits(path, exp, found)
        return exp, {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118


def _npy_header(stream):
    """(shape, fortran_order, dtype) of an .npy stream, its data not read."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(stream, max_header_size=NPY_HEADER_BYTES)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(stream, max_header_size=NPY_HEADER_BYTES)
    raise ValueError("unsupported .npy version")


def _npy_read(stream, shape, fortran, dtype) -> np.ndarray:
    """Exactly the bytes the (already checked) header declares, read into the array a chunk at
    a time (one large read of a deflated member builds its bytes by concatenation: about 16 s
    for 1 GB); short data is an error."""
    data = np.empty(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, dtype=np.uint8)
    view, done = data.data, 0
    while done < len(data):
        got = stream.readinto(view[done : done + READ_CHUNK])
        if not got:
            raise ValueError("truncated array")
        done += got
    return data.view(dtype).reshape(shape, order="F" if fortran else "C")


def _check_array_bytes(path: Path, name: str, size: int, shape: tuple, dtype) -> None:
    """An array member holds exactly its shape's bytes, as its directory entry says: a
    truncated or padded one is refused before any array is read (or inflated)."""
    exact = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size != exact:
        message = _("its array {name} holds {size} bytes; its shape needs {exact}")
        raise _foreign(path, message.format(name=name, size=size, exact=exact))


def _read_npz(path: Path):
    with zipfile.ZipFile(path) as z:
        infos = archive_members(z, path)
        members = [m for m in infos if m.endswith(".npy")]
        if len(members) != len(infos):
            raise _foreign(path, _("not an archive of arrays nnplay writes"))
        key = NPZ_KEY + ".npy"
        if key not in members:
            raise _foreign(path, _("no experiment inside"))
        with z.open(key) as stream:
            shape, fortran, dtype = _npy_header(stream)
            if dtype.kind != "U" or shape != () or dtype.itemsize > 4 * MAX_TEXT_BYTES:
                raise _foreign(path, _("its experiment is not a text"))
            _check_array_bytes(path, NPZ_KEY, infos[key].file_size - stream.tell(), shape, dtype)
            text = str(_npy_read(stream, shape, fortran, dtype)[()])
        exp = from_dict(parse_json(text, shown(path, 300)))
        _check_size(path, exp)
        check_sizes(infos, exp, {key: infos[key].file_size}, header_bytes=NPY_HEADER_BYTES)
        headers, data_bytes = {}, {}
        for member in members:
            if member != key:
                with z.open(member) as stream:
                    headers[member[:-4]] = _npy_header(stream)
                    data_bytes[member[:-4]] = infos[member].file_size - stream.tell()
        _check_fits(
            path, exp, {k: (shape, dtype.name) for k, (shape, _fortran, dtype) in headers.items()}
        )
        for name, (shape, _fortran, dtype) in headers.items():
            _check_array_bytes(path, name, data_bytes[name], shape, dtype)
        check_streams(z, infos)
        import torch

        state = {}
        for name, header in headers.items():
            with z.open(name + ".npy") as stream:
                _npy_header(stream)
                state[name] = torch.from_numpy(_npy_read(stream, *header))
        return exp, state
