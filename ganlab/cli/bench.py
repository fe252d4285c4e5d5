"""`bench`: iterations per second of the trainer against the seed's loop, side by side (the
measurements behind docs/performance.md).

    python -m ganlab bench --iters 300 --warmup 50
"""

from __future__ import annotations

import json

from ..errors import ConfigError
from .core import add_data_root, add_device


def add_bench(sub) -> None:
    be = sub.add_parser("bench", help="iterations/s of the trainer against the seed's loop, side by side")
    be.add_argument("--iters", type=int, default=300, help="timed iterations per case (default: 300)")
    be.add_argument("--warmup", type=int, default=50, help="untimed iterations first (default: 50)")
    add_device(be)
    add_data_root(be)
    be.add_argument("--json", action="store_true", help="print JSON instead of a table")
    be.add_argument("--compile", action="store_true", help="also time the pytorch-mlp pair under torch.compile")
    be.add_argument("--cuda-graph", action="store_true", help="also time the pytorch-mlp pair with each iteration "
                    "replayed as a CUDA graph")
    be.add_argument("--sweep", action="store_true", help="instead, the pytorch-mlp pair (and the seed loop) at "
                    "batch sizes 16 to 1024, fp32 and bf16")
    be.add_argument("--cond", action="store_true", help="instead, each MNIST model unconditional and conditional "
                    "(input, projection), twice over")


def cmd_bench(args) -> int:
    from ..bench import format_table, run

    if args.iters < 1 or args.warmup < 0:
        raise ConfigError("--iters must be >= 1 and --warmup >= 0")
    if args.cond and (args.sweep or args.compile or args.cuda_graph):
        raise ConfigError("--cond runs its own cases; run it without --sweep, --compile and --cuda-graph")
    result = run(iters=args.iters, warmup=args.warmup, data_root=args.data_root, device=args.device,
                 compile=args.compile, sweep=args.sweep, cond=args.cond, cuda_graph=args.cuda_graph)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
