"""Trainer speed of two checkouts of ganlab, side by side on one machine: the bench's cases, run in
alternation (A, B, A, B, ...) so that drift of the machine falls on both alike.

    python docs/tools/bench_ab.py OLD_CHECKOUT NEW_CHECKOUT [--rounds 2] [--iters 300] [--out FILE.json]
                                  [--cases seed:64:fp32,seed:256:fp32]   # model:batch:precision, default all

Each checkout's own `ganlab.bench.bench_case` times each case in a fresh process (MNIST from
$GANLAB_DATA); model names are ones both checkouts accept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from ganlab.devices import cpu_model

CASES = [("seed", 64, "fp32"), ("seed", 256, "fp32"), ("seed", 64, "bf16"), ("paper", 100, "fp32"),
         ("dcgan", 64, "fp32"), ("dcgan-deep", 64, "fp32"), ("dcgan-deep", 64, "bf16")]
SNIPPET = """
import json, sys, torch
from ganlab.bench import bench_case
cases, iters, warmup = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rows = [bench_case(m, b, iters, warmup, None, torch.device("cpu"), False, p) for m, b, p in cases]
print(json.dumps({"threads": torch.get_num_threads(), "torch": torch.__version__, "rows": rows}))
"""


def run_tree(tree: str, iters: int, warmup: int, cases: list) -> dict:
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    out = subprocess.run([sys.executable, "-c", SNIPPET, json.dumps(cases), str(iters), str(warmup)],
                         cwd=tree, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _commit(tree: str) -> str:
    out = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--out")
    ap.add_argument("--cases", help="model:batch:precision,... (default: every case above)")
    args = ap.parse_args()
    cases = CASES if not args.cases else [(m, int(b), p) for m, b, p in (c.split(":") for c in args.cases.split(","))]
    runs = []
    for r in range(args.rounds):
        for label, tree in (("before", args.old), ("after", args.new)):
            t0 = time.time()
            result = run_tree(tree, args.iters, args.warmup, cases)
            runs.append({"round": r, "checkout": label, **result})
            print(f"round {r} {label}: " + ", ".join(f"{x['model']} {x['batch_size']} {x['precision']} "
                  f"{x['ganlab_it_s']:.1f}" for x in result["rows"]) + f" ({time.time() - t0:.0f} s)", file=sys.stderr)
    summary = {}
    for m, b, p in cases:
        for label in ("before", "after"):
            speeds = [x["ganlab_it_s"] for run in runs if run["checkout"] == label for x in run["rows"]
                      if (x["model"], x["batch_size"], x["precision"]) == (m, b, p)]
            summary.setdefault(f"{m} {b} {p}", {})[label] = [round(s, 1) for s in speeds]
    # The checkouts by commit, not by where they sit on one machine.
    command = (f"python docs/tools/bench_ab.py OLD_CHECKOUT NEW_CHECKOUT --rounds {args.rounds} --iters {args.iters} "
               f"--warmup {args.warmup}" + (f" --cases {args.cases}" if args.cases else "") + " --out FILE.json")
    result = {"machine": f"{cpu_model()}, {os.cpu_count()} cores", "date": time.strftime("%Y-%m-%d"),
              "command": command, "old_commit": _commit(args.old), "new_commit": _commit(args.new),
              "iters": args.iters, "warmup": args.warmup, "it_s": summary, "runs": runs}
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
