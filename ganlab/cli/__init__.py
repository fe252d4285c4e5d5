"""Command line: `python -m ganlab train | sample | eval | semi | ...`.

    python -m ganlab train --data ring --steps 2000 --out checkpoints/ring.pt
    python -m ganlab train --resume checkpoints/ring.pt --steps 1000 --out checkpoints/ring.pt
    torchrun --standalone --nproc-per-node 2 -m ganlab train --data ring --steps 2000 --out ring.pt
    python -m ganlab sample checkpoints/ring.pt --n 2500 --seed 0 --out ring.npy
    python -m ganlab sample checkpoints/mnist-cond.pt --n 64 --label 7 --out sevens.png
    python -m ganlab eval checkpoints/ring.pt
    python -m ganlab semi checkpoints/mnist-dcgan.pt --labels 100 --repeats 3
    python -m ganlab encode checkpoints/mnist-dcgan.pt --images x.npy --refine 100 --out z.npy
    python -m ganlab complete checkpoints/mnist-dcgan.pt --images x.npy --mask bottom --n 4 --out c.png
    python -m ganlab classifier --data mnist --out checkpoints/classifier-mnist.pt
    python -m ganlab time-to-good --model dcgan-deep --precision bf16 --budget 300
    python -m ganlab study run ring-k --data ring --trials 24 --steps 1500 --space "k=1..5 loss=nonsat|hinge"

Training flags are generated from the fields of `Config`, so the CLI, the app and the library
cannot drift apart. Every user error ends as one line on stderr and exit code 1, no traceback.

One module per family of commands (`train`, `sampling`, `evaluation`, `classifier`, `bench`,
`fields`, `study`) over `core` (the parser and the flags they share); `commands` holds the table of them,
the files each writes and reads, and `main`.
"""

from .commands import COMMANDS, INPUTS, OUTPUTS, build_parser, check_inputs, check_outputs, main
from .core import config_help
from .fields import fields_table

__all__ = ["COMMANDS", "INPUTS", "OUTPUTS", "build_parser", "check_inputs", "check_outputs", "config_help",
           "fields_table", "main"]
