"""Many iterations with a progress bar: `Trainer.train(n)`, the loop the command line and notebooks
use, in chunks of `step()` so that results are read back once a chunk, not once an iteration."""

from __future__ import annotations

from tqdm.auto import tqdm


def train(trainer, n: int, callback=None, chunk: int = 100, every: int | None = None, progress: bool = True) -> dict:
    """Run `n` iterations in chunks of `step()`, with a progress bar; return the last chunk's stats.

    Chunks end at multiples of `chunk` and of `every`, so `callback(trainer, stats)`, called after
    each chunk, sees exactly the steps a periodic checkpoint wants.
    """
    stats, end = {}, trainer.step_count + n
    with tqdm(total=n, disable=not progress, unit="it", dynamic_ncols=True) as bar:
        while trainer.step_count < end:
            left = end - trainer.step_count
            size = min(left, chunk - trainer.step_count % chunk,
                       every - trainer.step_count % every if every else left)
            stats = trainer.step(size)
            bar.update(size)
            bar.set_postfix(d_loss=f"{stats['d_loss']:.3f}", g_loss=f"{stats['g_loss']:.3f}")
            if callback is not None:
                callback(trainer, stats)
    return stats
