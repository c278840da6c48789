"""Export trained weights with their Experiment, in formats other tools read, and load them back.

The format follows the suffix:
- .pt           a plain state_dict (torch.load(path, weights_only=True)); the Experiment is
                written beside it as a preset TOML of the same stem
- .safetensors  tensors, with the Experiment (TOML) in the metadata
- .onnx         the network for onnxruntime, with the Experiment (TOML) in metadata_props
- .npz          one array per state_dict entry, plus the Experiment as JSON
- .py           not weights: a plain PyTorch script (and its data) that reproduces the run
Every write is atomic.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from nnplay.errors import ExperimentError
from nnplay.experiment import Experiment, dumps, from_dict, load_file, loads, to_dict
from nnplay.files import write_atomic
from nnplay.model import build_model, output_head, probabilities
from nnplay.script_export import write_script
from nnplay.tasks import expand_features, task_shape

# torch, safetensors, onnx and onnxruntime are imported inside the functions that use them: presets
# import this module, and the app draws its first frame before torch loads (docs/architecture.md).

FORMATS = (".pt", ".safetensors", ".onnx", ".npz")  # weights that load back for prediction
EXPORT_SUFFIXES = (*FORMATS, ".py")
METADATA_KEY = "nnplay.experiment"
NPZ_KEY = "__nnplay_experiment__"


def check_export_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix not in EXPORT_SUFFIXES:
        raise ExperimentError(f"{path}: unknown export format {path.suffix or '(none)'!r}; "
                              f"allowed suffixes: {', '.join(EXPORT_SUFFIXES)}")
    return path


def export(model, exp: Experiment, path: str | Path) -> list[Path]:
    """Write `model` (with `exp`) to `path` in the format its suffix names; returns the files."""
    path = check_export_path(path)
    if path.suffix == ".py":
        return write_script(exp, path)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".pt":
        import torch

        buffer = io.BytesIO()
        torch.save(state, buffer)
        return [write_atomic(path, buffer.getvalue()),
                write_atomic(path.with_suffix(".toml"), dumps(exp).encode())]
    if path.suffix == ".safetensors":
        from safetensors.torch import save

        return [write_atomic(path, save(state, metadata={METADATA_KEY: dumps(exp)}))]
    if path.suffix == ".onnx":
        return [write_atomic(path, _onnx_bytes(model, exp))]
    buffer = io.BytesIO()
    arrays: dict[str, Any] = {k: v.numpy() for k, v in state.items()}
    arrays[NPZ_KEY] = np.array(json.dumps(to_dict(exp)))
    np.savez(buffer, **arrays)
    return [write_atomic(path, buffer.getvalue())]


def _onnx_bytes(model, exp: Experiment) -> bytes:
    import onnx
    import torch

    was_training = model.training
    model.eval()
    example = torch.zeros(2, task_shape(exp.task).inputs)
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # The TorchScript exporter (deprecated, hence the warning): the dynamo one cannot
            # trace these Sequentials on torch 2.13.
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(model, (example,), buffer,  # type: ignore[arg-type]  # a file works
                              dynamo=False, input_names=["input"],
                              output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    finally:
        model.train(was_training)
    proto = onnx.load_from_string(buffer.getvalue())
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, dumps(exp)
    return proto.SerializeToString()


# ---------------------------------------------------------------------------------------------
# Reading back


def read_experiment(path: str | Path) -> Experiment:
    return load_predictor(path).exp


def _foreign(path: Path, why: str) -> ExperimentError:
    return ExperimentError(f"{path}: not an nnplay export ({why}); nnplay reads {', '.join(FORMATS)} "
                           "files that it wrote")


class Predictor:
    """Outputs of an exported network for raw task inputs."""

    def __init__(self, exp: Experiment, run):
        self.exp = exp
        self.shape = task_shape(exp.task)
        self.head = output_head(exp)
        self._run = run  # float32 (n, inputs) -> outputs (n, units)

    def outputs(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.shape.raw_inputs:
            got = x.shape[-1] if x.ndim else 1
            raise ExperimentError(f"input: {got} values is not allowed; this model takes "
                                  f"{self.shape.raw_inputs} comma-separated numbers")
        return self._run(expand_features(x, self.exp.task.features).astype(np.float32))

    def probabilities(self, x) -> np.ndarray:
        return probabilities(self.head, self.outputs(x))


def load_predictor(path: str | Path) -> Predictor:
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{path}: no such file")
    if path.suffix not in FORMATS:
        raise _foreign(path, f"{path.suffix or 'no suffix'} is not a weights format")
    if path.suffix == ".onnx":
        return _onnx_predictor(path)
    exp, state = _read_state(path)
    try:
        model = build_model(exp)
        model.load_state_dict(state)
    except (RuntimeError, KeyError) as e:
        raise _foreign(path, f"weights do not fit its experiment: {str(e).splitlines()[0]}") from None
    model.eval()
    return Predictor(exp, lambda x: _torch_run(model, x))


def _torch_run(model, x):
    import torch

    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def _read_state(path: Path):
    import torch

    try:
        if path.suffix == ".pt":
            beside = path.with_suffix(".toml")
            if not beside.is_file():
                raise _foreign(path, f"its experiment {beside.name} is missing beside it")
            return load_file(beside), torch.load(path, weights_only=True)
        if path.suffix == ".safetensors":
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                meta = (f.metadata() or {}).get(METADATA_KEY)
                if meta is None:
                    raise _foreign(path, "no experiment in its metadata")
                return loads(meta, source=str(path)), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
        with np.load(path, allow_pickle=False) as data:
            if NPZ_KEY not in data:
                raise _foreign(path, "no experiment inside")
            exp = from_dict(json.loads(str(data[NPZ_KEY])))
            return exp, {k: torch.from_numpy(data[k]) for k in data.files if k != NPZ_KEY}
    except ExperimentError:
        raise
    except Exception as e:  # a foreign or damaged file: torch, safetensors and numpy differ
        raise _foreign(path, e.__class__.__name__) from None


def _onnx_predictor(path: Path) -> Predictor:
    import onnx
    import onnxruntime

    try:
        proto = onnx.load(str(path))
        meta = {p.key: p.value for p in proto.metadata_props}.get(METADATA_KEY)
        session = onnxruntime.InferenceSession(proto.SerializeToString())
    except Exception as e:
        raise _foreign(path, e.__class__.__name__) from None
    if meta is None:
        raise _foreign(path, "no experiment in its metadata")
    return Predictor(loads(meta, source=str(path)),
                     lambda x: session.run(None, {"input": x})[0])
