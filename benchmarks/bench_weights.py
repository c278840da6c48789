"""How long and how much memory nnplay takes to refuse the worst weights files of issue 17.

    python benchmarks/bench_weights.py [--source DIR] [--json]

The files (built once in a temporary folder, under a minute):
- a .pt whose data.pkl is followed by 960 MiB of deflated zeros (about 1 MB on disk);
- a .pt whose record declares 960 MiB of deflated zeros;
- a deflated .npz of zeros declaring 16 hidden layers of 4096 units, its last array truncated,
  and the same whole but its last stream corrupt (these three are refused from the zip
  directory: they inflate far more than weights can);
- a deflated .npz of 4 x 4096 random weights (256 MiB, incompressible) whose last stream is
  corrupt: every size it declares is allowed, so its streams are inflated (to their checksums,
  a chunk at a time) before any array is allocated;
- a .pt with a complex64 tensor; an empty .pt.

Each is refused by `nnplay predict` in a fresh interpreter that has already imported
nnplay.cli: the time is that of `main(...)` alone (the interpreter's start and nnplay's import
excluded), the memory the process's peak resident set (Linux). Figures are given as ratios to the
targets (1 s, 300 MB) and to the same interpreter doing nothing but importing nnplay.cli.
`--source DIR` measures another checkout's nnplay (main before a change, say) on the same files.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnplay.experiment import with_overrides  # noqa: E402
from nnplay.export import export  # noqa: E402
from nnplay.presets import load_preset  # noqa: E402

TARGET_SECONDS = 1.0
TARGET_BYTES = 300 * 10**6
MiB = 2**20
INPUT = ["--input", "0.1,0.2,0.3,0.4,0.5"]

# The peak is VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec from the
# forked parent (this script, with torch loaded), VmHWM belongs to the new program alone.
CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from nnplay.cli import main
argv = json.loads(sys.argv[2])
started = time.perf_counter()
code = main(argv) if argv else 0
elapsed = time.perf_counter() - started
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
print(json.dumps([code, elapsed, peak]))
"""


def small_export(folder: Path, hidden: list[int]) -> Path:
    import torch

    from nnplay.model import build_model

    exp = with_overrides(load_preset("first-gt-fifth"), {"model.hidden": hidden})
    model = build_model(exp)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    path = folder / f"w{len(hidden)}.pt"
    export(model, exp, path)
    return path


def copy_members(source: Path, target: Path, replace: dict[str, object]) -> Path:
    """`source`'s members, some replaced by a writer function (streamed, deflated)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            if info.filename in replace:
                entry = zipfile.ZipInfo(info.filename)
                entry.compress_type = zipfile.ZIP_DEFLATED
                with new.open(entry, "w", force_zip64=True) as out:
                    replace[info.filename](out, old.read(info))
            else:
                new.writestr(info, old.read(info))
    return target


def zeros_after(count: int):
    def write(out, data: bytes) -> None:
        out.write(data)
        for _ in range(count):
            out.write(bytes(MiB))

    return write


def wide_npz(folder: Path, layers: int, units: int, cut: bool = True, noise: bool = False) -> Path:
    """A deflated .npz of `layers` x `units` weights (zeros, or random bytes that do not
    compress), its last array cut short (or whole); written array by array (the network is
    never built)."""
    import numpy as np

    from nnplay.experiment import to_dict
    from nnplay.export import NPZ_KEY
    from nnplay.model import state_shapes

    exp = with_overrides(load_preset("first-gt-fifth"), {"model.hidden": [units] * layers})
    shapes = state_shapes(exp)
    path = folder / f"wide-{layers}x{units}{'-cut' if cut else ''}{'-noise' if noise else ''}.npz"
    random = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        last = f"hidden{layers}.weight"
        for name, shape in shapes.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f4", "fortran_order": False, "shape": shape}
            )
            rows, row = (shape[0], 4 * shape[1]) if len(shape) == 2 else (1, 4 * shape[0])
            if name == last and cut:
                rows -= 1
            with z.open(name + ".npy", "w", force_zip64=True) as out:
                out.write(header.getvalue())
                for _ in range(rows):
                    out.write(random.bytes(row) if noise else bytes(row))
        text = io.BytesIO()
        np.save(text, np.array(json.dumps(to_dict(exp))))
        z.writestr(NPZ_KEY + ".npy", text.getvalue())
    return path


def corrupt(path: Path, member: str) -> Path:
    """`path` with bytes in the middle of `member`'s deflated stream overwritten: every size it
    declares is right, the data is not."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    data[middle : middle + 64] = bytes(range(64))
    target = path.with_name(path.stem + "-corrupt.npz")
    target.write_bytes(bytes(data))
    return target


def build(folder: Path) -> dict[str, Path]:
    import torch

    good = small_export(folder, [8])
    members = zipfile.ZipFile(good).namelist()
    pickle = next(n for n in members if n.endswith("/data.pkl"))
    record = next(n for n in members if "/data/" in n)
    complex_pt = folder / "complex.pt"
    state = torch.load(good, weights_only=True)
    torch.save({**state, "output.bias": state["output.bias"].to(torch.complex64)}, complex_pt)
    complex_pt.with_suffix(".toml").write_bytes(good.with_suffix(".toml").read_bytes())
    empty = folder / "empty.pt"
    empty.write_bytes(b"")
    return {
        "pt: data.pkl + 960 MiB deflated zeros": copy_members(
            good, folder / "pickle-bomb.pt", {pickle: zeros_after(960)}
        ),
        "pt: a record of 960 MiB deflated zeros": copy_members(
            good, folder / "record-bomb.pt", {record: zeros_after(960)}
        ),
        "npz: 16x4096 deflated, last array truncated": wide_npz(folder, 16, 4096),
        "npz: 16x4096 deflated, last stream corrupt": corrupt(
            wide_npz(folder, 16, 4096, cut=False), "hidden16.weight.npy"
        ),
        "npz: 4x4096 random, deflated, last stream corrupt": corrupt(
            wide_npz(folder, 4, 4096, cut=False, noise=True), "hidden4.weight.npy"
        ),
        "pt: a complex64 tensor": complex_pt,
        "pt: empty": empty,
    }


def measure(source: Path, argv: list[str]) -> tuple[int, float, int]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(source), json.dumps(argv)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    code, elapsed, peak = json.loads(result.stdout.strip().splitlines()[-1])
    return code, elapsed, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout to measure")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp))
        _, _, baseline = measure(args.source, [])
        rows = {}
        for name, path in files.items():
            code, elapsed, peak = measure(args.source, ["predict", str(path), *INPUT])
            rows[name] = {
                "size_bytes": os.path.getsize(path),
                "exit_code": code,
                "seconds": round(elapsed, 3),
                "peak_bytes": peak,
                "time_to_target": round(elapsed / TARGET_SECONDS, 3),
                "memory_to_target": round(peak / TARGET_BYTES, 3),
                "memory_to_import_only": round(peak / baseline, 3),
            }
    if args.json:
        print(json.dumps({"import_only_peak_bytes": baseline, "files": rows}, indent=2))
        return
    print(f"import only: peak {baseline / MiB:.0f} MiB")
    for name, row in rows.items():
        print(
            f"{name:46} {row['size_bytes'] / MiB:7.2f} MiB  exit {row['exit_code']}  "
            f"{row['seconds']:6.3f} s ({row['time_to_target']:.2f} x 1 s)  "
            f"peak {row['peak_bytes'] / MiB:5.0f} MiB ({row['memory_to_target']:.2f} x 300 MB, "
            f"{row['memory_to_import_only']:.2f} x import only)"
        )


if __name__ == "__main__":
    main()
