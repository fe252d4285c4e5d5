"""`python -m ganlab bench`: the ganlab trainer against a loop equal to the seed's code, side by side
in one process on the same MNIST data, plus the machine's matmul throughput for scale and, on the
CPU, the trainer's share of the floor the machine itself puts under an iteration (roofline.py).

The seed loop is the seed script as written: torchvision MNIST through a DataLoader with
Resize/ToTensor/Normalize (PIL work per image, per step), z from NumPy, D with a Sigmoid and
nn.BCELoss, the G step first, then the D step on the pre-update fakes with the loss halved, and
two `.item()` calls per iteration for its log line (formatted, not printed, so the terminal does
not enter the measurement).
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import torch
from torch import nn

from .config import make_config
from .devices import cpu_model
from .errors import DivergenceError
from .roofline import copy_bandwidth, iteration_bound, traced_layers
from .trainer import Trainer


class PeakRSS:
    """Peak resident memory of this process while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.peak, self._stop = _rss(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def forward_flops(net: nn.Module, d_in: int) -> int:
    """Multiply-adds x 2 of one forward pass of one sample through every Linear and (transposed)
    convolution of `net`."""
    return sum(layer.flop for layer in traced_layers(net, d_in))


def iteration_flops(trainer: Trainer) -> int:
    """FLOPs of one ganlab iteration at k = 1: the D step runs G forward (m) and D forward+backward
    on 2m (backward ~ 2x forward); the G step runs G forward+backward (m) and D forward plus the
    input-gradient half of its backward (m)."""
    cfg = trainer.config
    dim = int(np.prod(cfg.shape))
    m, fg, fd = cfg.batch_size, forward_flops(trainer.G, cfg.latent_dim), forward_flops(trainer.D, dim)
    return trainer.config.k * (fg * m + 3 * fd * 2 * m) + 3 * fg * m + 2 * fd * m


def matmul_gflops(n: int = 1024, seconds: float = 1.0, device: torch.device = torch.device("cpu")) -> float:
    """fp32 (256 x n) @ (n x n) products per second; on CUDA, (n x n) @ (n x n) with n = 8192 so
    the GPU is saturated (torch's default fp32 matmul, no TF32 unless the user enabled it)."""
    m, n = (256, n) if device.type == "cpu" else (8192, 8192)
    a, b = torch.randn(m, n, device=device), torch.randn(n, n, device=device)
    a @ b
    _sync(device)
    reps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ b
        reps += 1
        _sync(device)
    return reps * 2 * m * n * n / (time.perf_counter() - t0) / 1e9


def seed_dataset(data_root):
    """MNIST as the seed script reads it: torchvision's dataset with PIL transforms per image."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.Resize(28), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    return datasets.MNIST(str(data_root), train=True, download=True, transform=transform)


def seed_loop(data_root, batch_size: int, device: torch.device, dataset=None):
    """A generator of iterations of the seed's training loop; each `next()` runs one."""
    from torch.utils.data import DataLoader

    from .models import build_models

    dataset = seed_dataset(data_root) if dataset is None else dataset
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    G, D_logits = build_models(make_config(data="mnist", model="pytorch-mlp"))
    D = nn.Sequential(D_logits, nn.Sigmoid())             # the seed's D ends in a Sigmoid
    G.to(device)
    D.to(device)
    loss = nn.BCELoss()
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    while True:
        for imgs, _ in loader:
            valid = torch.ones(imgs.size(0), device=device)
            fake = torch.zeros(imgs.size(0), device=device)
            real = imgs.to(device).view(imgs.size(0), -1)
            opt_g.zero_grad()
            z = torch.as_tensor(np.random.normal(0, 1, (imgs.shape[0], 100)), dtype=torch.float32, device=device)
            gen = G(z)
            g_loss = loss(D(gen), valid)
            g_loss.backward()
            opt_g.step()
            opt_d.zero_grad()
            d_loss = (loss(D(real), valid) + loss(D(gen.detach()), fake)) / 2
            d_loss.backward()
            opt_d.step()
            _ = "[D loss: %f] [G loss: %f]" % (d_loss.item(), g_loss.item())
            yield


def _time(run_one, n: int, warmup: int, device) -> float:
    for _ in range(warmup):
        run_one()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(n):
        run_one()
    _sync(device)
    return n / (time.perf_counter() - t0)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_case(model: str, batch_size: int, iters: int, warmup: int, data_root, device, with_seed: bool,
               precision: str = "fp32", compile: bool = False, cond: str = "none", bandwidth: float | None = None,
               cuda_graph: bool = False) -> dict:
    cfg = make_config(data="mnist", model=model, batch_size=batch_size, precision=precision, cond=cond)
    trainer = Trainer(cfg, device=device, data_root=data_root, compile=compile, cuda_graph=cuda_graph)
    trainer.load_data()                                        # outside the timing
    row = {"model": model, "batch_size": batch_size, "precision": precision, "compile": compile, "cond": cond,
           "cuda_graph": cuda_graph}
    if compile:                                                # compile outside the timing too
        t0 = time.perf_counter()
        trainer.step(2)
        row["compile_s"] = time.perf_counter() - t0
    chunk = 50
    _reset_gpu_peak(trainer.device)
    with PeakRSS() as mem:
        try:
            ips = _time(lambda: trainer.step(chunk), max(1, iters // chunk), max(1, warmup // chunk), trainer.device) * chunk
        except DivergenceError as exc:      # a speed number of a NaN run would mean nothing
            return {**row, "diverged": str(exc)}
    row.update(ganlab_it_s=ips, ganlab_peak_mb=mem.peak / 2**20,
               ganlab_gflop_s=ips * iteration_flops(trainer) / 1e9, **_gpu_peak(trainer.device, "ganlab"))
    bound = iteration_bound(trainer.G, trainer.D, batch_size, cfg.k, precision, bandwidth, cfg.optimizer,
                            g_in=cfg.latent_dim, d_in=int(np.prod(cfg.shape))) if trainer.device.type == "cpu" else None
    if bound is not None:
        row.update(roofline=bound, share_of_bound=ips / bound["bound_it_s"])
    if with_seed:
        root = trainer.data_root or _root()
        dataset = seed_dataset(root)
        # Both sides train on the same images: the same count, and (spot-checked) the same pixels.
        row["images"], row["seed_images"] = len(trainer.data), len(dataset)
        pixels = trainer.data.codes[0].float().cpu() / trainer.data.levels          # image 0 in [0, 1]
        row["same_first_image"] = bool(torch.allclose(pixels, dataset[0][0].reshape(-1) * 0.5 + 0.5, atol=1e-6))
        loop = seed_loop(root, batch_size, trainer.device, dataset)
        _reset_gpu_peak(trainer.device)
        with PeakRSS() as mem:
            row["seed_it_s"] = _time(lambda: next(loop), iters, warmup, trainer.device)
        row["seed_peak_mb"] = mem.peak / 2**20
        row.update(_gpu_peak(trainer.device, "seed"))
        row["speedup"] = row["ganlab_it_s"] / row["seed_it_s"]
    return row


def _reset_gpu_peak(device):
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


def _gpu_peak(device, who: str) -> dict:
    """GPU memory at its peak (tensors torch allocated) since the last reset; CPU runs have none."""
    return {f"{who}_gpu_peak_mb": torch.cuda.max_memory_allocated(device) / 2**20} if device.type == "cuda" else {}


def _root():
    from .data import default_data_root

    return default_data_root()


SWEEP_BATCHES = (16, 32, 64, 128, 256, 512, 1024)


def run(iters: int = 300, warmup: int = 50, data_root=None, device="auto", compile: bool = False,
        sweep: bool = False, cond: bool = False, cuda_graph: bool = False) -> dict:
    """The standard cases, each model with its default recipe (dcgan-deep: fast-mnist, the
    recommended MNIST setup); with `compile`, the pytorch-mlp pair compiled too; with `cuda_graph`,
    that pair with each iteration replayed as a CUDA graph too (graphs.py); with `sweep`, that
    pair (ganlab and the seed loop) over SWEEP_BATCHES, for the it/s-against-batch-size plot; with
    `cond`, instead, each MNIST model unconditional and with both conditional D's, one after the other,
    twice over (what a class costs an iteration)."""
    from .devices import resolve_device

    dev = resolve_device(device)
    mlp = "pytorch-mlp"
    def case(m, b, p="fp32", seed=False, **kw):
        return dict(model=m, batch_size=b, precision=p, with_seed=seed, **kw)
    cases = [case(mlp, 64, seed=True), case(mlp, 256, seed=True), case(mlp, 64, "bf16"), case(mlp, 256, "bf16"),
             case("paper", 100), case("dcgan", 64), case("dcgan-deep", 64), case("dcgan-deep", 64, "bf16")]
    if compile:
        cases += [case(mlp, 64, compile=True), case(mlp, 256, compile=True)]
    if cuda_graph:
        cases += [case(mlp, b, p, cuda_graph=True) for b, p in ((64, "fp32"), (256, "fp32"), (64, "bf16"))]
    if sweep:
        cases = [case(mlp, b, p, seed=p == "fp32") for b in SWEEP_BATCHES for p in ("fp32", "bf16")]
    if cond:
        pairs = [(mlp, 64, "fp32"), ("paper", 100, "fp32"), ("dcgan-deep", 64, "fp32"), ("dcgan-deep", 64, "bf16")]
        cases = [case(m, b, p, cond=c) for m, b, p in pairs for _ in range(2) for c in ("none", "input", "projection")]
    bandwidth = copy_bandwidth() if dev.type == "cpu" else None
    rows = [bench_case(iters=iters, warmup=warmup, data_root=data_root, device=dev, bandwidth=bandwidth, **c) for c in cases]
    return {"device": str(dev), "cpu": cpu_model(), "threads": torch.get_num_threads(), "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(dev) if dev.type == "cuda" else None,
            "matmul_gflop_s": matmul_gflops(device=dev), "rows": rows,
            "note": f"{iters} timed iterations after {warmup} warm-up, each side; k = 1"}


def format_table(result: dict) -> str:
    where = f"{result['device']} ({result['gpu']})" if result.get("gpu") else f"{result['device']} ({result['threads']} threads)"
    lines = [f"device {where}, {result.get('cpu', '')}, torch {result['torch']}; fp32 matmul "
             f"{result['matmul_gflop_s']:.0f} GFLOP/s",
             "model       batch  prec     ganlab it/s  seed it/s  ratio  ganlab GFLOP/s  bound it/s  share  "
             "peak MB (ganlab / seed)"]
    for r in result["rows"]:
        if "diverged" in r:
            lines.append(f"{r['model']:<11} {r['batch_size']:>5}  {r['precision']}  diverged: {r['diverged']}")
            continue
        seed = f"{r['seed_it_s']:9.1f}  {r['speedup']:5.2f}x" if "seed_it_s" in r else f"{'-':>9}  {'-':>6}"
        mem = f"{r['ganlab_peak_mb']:.0f} / {r['seed_peak_mb']:.0f}" if "seed_peak_mb" in r else f"{r['ganlab_peak_mb']:.0f}"
        if "ganlab_gpu_peak_mb" in r:
            mem += f"; GPU {r['ganlab_gpu_peak_mb']:.0f}" + (f" / {r['seed_gpu_peak_mb']:.0f}" if "seed_gpu_peak_mb" in r else "")
        prec = r["precision"] + ("+compile" if r.get("compile") else "") + ("+graph" if r.get("cuda_graph") else "") + \
            (f"+{r['cond']}" if r.get("cond", "none") != "none" else "")
        bound = f"{r['roofline']['bound_it_s']:10.1f}  {r['share_of_bound']:4.0%}" if "roofline" in r else f"{'-':>10}  {'-':>5}"
        lines.append(f"{r['model']:<11} {r['batch_size']:>5}  {prec:<12} {r['ganlab_it_s']:6.1f}  {seed}  "
                     f"{r['ganlab_gflop_s']:14.1f}  {bound}  {mem}")
    return "\n".join(lines)

