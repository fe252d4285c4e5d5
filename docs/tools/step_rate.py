"""Iterations/s of the trainer for one MNIST configuration, given as config fields.

    python docs/tools/step_rate.py model=dcgan precision=bf16 r1=10 r1_every=16 [iters=200] [chunk=N]

Builds the Trainer (data loaded outside the clock), runs 30 untimed iterations, then times `iters`
iterations in one `Trainer.step` call, as `python -m ganlab bench` does for its presets; with
`chunk`, in calls of `step(chunk)`, as the app and slow motion step a few iterations at a time.
"""

import sys
import time

from ganlab.config import FIELD_TYPES, make_config
from ganlab.trainer import Trainer


def main(argv):
    fields = dict(a.split("=", 1) for a in argv)
    iters = int(fields.pop("iters", 200))
    chunk = int(fields.pop("chunk", iters))
    cfg = make_config(data="mnist", **{k: FIELD_TYPES[k](v) for k, v in fields.items()})
    trainer = Trainer(cfg)
    trainer.load_data()
    trainer.step(30)
    t0 = time.perf_counter()
    for _ in range(iters // chunk):
        trainer.step(chunk)
    iters = iters // chunk * chunk
    seconds = time.perf_counter() - t0
    print(f"{' '.join(argv) or 'mnist defaults'}: {iters / seconds:.1f} it/s, "
          f"{iters * cfg.batch_size / seconds:,.0f} images/s")


if __name__ == "__main__":
    main(sys.argv[1:])
