"""Slim a full ganlab checkpoint into the file that is shipped: the same run without the two
optimizers' states (opt_g, opt_d), which only a bit-identical resume reads, and with `--bf16` its
weights (G, D, their averages, the encoder, the class net) stored in bfloat16, which loading casts back to float32.
Everything else (config, step, stream, fixed z, history, encoder and class net steps) is kept as it was.

    python docs/tools/slim_checkpoints.py FULL.pt --out checkpoints/NAME.pt [--bf16] \\
        [--record docs/bench/checkpoint-sizes.json]

A shipped file's full original is in the repository's history (`git log -- checkpoints/NAME.pt`);
a resumable one is trained again with the command in checkpoints/README.md. `--record` writes the
sizes before and after into a JSON record, with the total of the .pt files in the output's folder.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch

from ganlab.checkpoint import MOMENTS, WEIGHTS, holds_moments, load_checkpoint, save_atomic


def narrowed(state):
    """A state dict with its float32 tensors in bfloat16 (integer buffers and extra state as they were)."""
    state = copy.copy(state)        # keeps the state dict's `_metadata` (module versions)
    for k, v in state.items():
        if isinstance(v, torch.Tensor) and v.dtype == torch.float32:
            state[k] = v.bfloat16()
    return state


def slim(sd: dict, bf16: bool) -> dict:
    out = {k: v for k, v in sd.items() if k not in MOMENTS}
    if bf16:
        out.update({k: narrowed(sd[k]) for k in WEIGHTS if sd.get(k) is not None})
        for net in ("encoder", "class_net"):
            if sd.get(net) is not None:
                out[net] = {**sd[net], "weights": narrowed(sd[net]["weights"])}
    return out


def record(path: Path, out: Path, before: int, bf16: bool) -> None:
    """Put `out`'s sizes into the JSON record at `path`, with the total of the .pt files in `out`'s
    folder now and before slimming (now plus what every recorded file lost)."""
    rec = json.loads(path.read_text()) if path.exists() else {}
    files = rec.get("files", {})
    files[out.name] = {"before_bytes": before, "after_bytes": out.stat().st_size,
                       "weights": "bfloat16" if bf16 else "float32", "dropped": list(MOMENTS)}
    files = dict(sorted(files.items()))
    now = sum(p.stat().st_size for p in out.parent.glob("*.pt"))
    saved = sum(f["before_bytes"] - f["after_bytes"] for f in files.values())
    rec = {"what": "bytes of each shipped checkpoint before and after docs/tools/slim_checkpoints.py, and of the "
                   "total of the folder's .pt files (those not slimmed included)",
           "command": "python docs/tools/slim_checkpoints.py FULL.pt --out checkpoints/NAME.pt [--bf16] "
                      "--record docs/bench/checkpoint-sizes.json",
           "files": files,
           "slimmed_before_bytes": sum(f["before_bytes"] for f in files.values()),
           "slimmed_after_bytes": sum(f["after_bytes"] for f in files.values()),
           "folder_pt_before_bytes": now + saved, "folder_pt_after_bytes": now}
    path.write_text(json.dumps(rec, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("full", type=Path, help="a checkpoint as training wrote it (with both optimizers' states)")
    parser.add_argument("--out", type=Path, required=True, help="the slim file to write (may be FULL itself)")
    parser.add_argument("--bf16", action="store_true", help="store the weights in bfloat16 (default: as they are)")
    parser.add_argument("--record", type=Path, help="a JSON record of sizes to add this file to")
    args = parser.parse_args(argv)
    sd = load_checkpoint(args.full)
    if not holds_moments(sd):
        print(f"error: {args.full} holds no optimizer state: it is slim already; give the file training wrote",
              file=sys.stderr)
        return 1
    before = args.full.stat().st_size
    save_atomic(slim(sd, args.bf16), args.out)
    after = args.out.stat().st_size
    print(f"{args.out}: {before:,} -> {after:,} bytes ({after / before:.1%})")
    if args.record:
        record(args.record, args.out, before, args.bf16)
    return 0


if __name__ == "__main__":
    sys.exit(main())
