"""Does compiling the whole iteration pay on this machine? Alternating rounds of three ways to run
Algorithm 1's iteration (docs/design.md §1) for one MNIST pair, each on its own trainer of the same
seed, all in one process:

  trainer   `Trainer.step`, the shipped eager path
  nets      `Trainer(compile=True)`: G and D through torch.compile, autograd and Adam eager
  whole     both phases, both backward passes and both optimizer steps as one torch.compile'd
            function (Adam's foreach form, which dynamo traces), each backward compiled by compiled
            autograd where it breaks the graph, the random draws made outside it; the record counts
            the graphs and breaks

    python docs/tools/compile_iteration.py [model=pytorch-mlp] [precision=fp32] [rounds=4] [iters=200] [json=PATH]

MNIST-shaped random images (no data needed). The first call of a compiled variant compiles; that
time is reported apart and not counted in its rate. `whole` covers the plain case only (k = 1, no
penalty, no classes), which is what the bench's roofline cases train.
"""

import sys
import time

import torch
from profile_step import alternating_rates, random_mnist_trainer, write_record

from ganlab.config import FIELD_TYPES, make_config
from ganlab.latent import sample_z
from ganlab.losses import d_loss, g_loss


def whole_iteration(trainer):
    """One iteration as a single function of its random draws, compiled as a whole."""
    cfg, G, D = trainer.config, trainer.G, trainer.D
    if cfg.k != 1 or cfg.r1 or cfg.classes or cfg.loss != "nonsat" or cfg.optimizer != "adam":
        raise SystemExit("whole covers Adam, k = 1, nonsat, no R1, no classes")
    # torch.compile does not trace into the fused Adam kernel the trainer uses (it is marked
    # compiler.disable); the foreach Adam it does trace, and inductor fuses its loops itself.
    opt_g, opt_d = (torch.optim.Adam(net.parameters(), lr=lr, betas=(cfg.beta1, cfg.beta2), foreach=True)
                    for net, lr in ((G, cfg.lr_g), (D, cfg.lr_d)))
    d_params, g_params = list(D.parameters()), list(G.parameters())
    autocast = trainer._autocast

    def iteration(real, z_d, z_g):
        for p in d_params:                  # Optimizer.zero_grad is one dynamo will not trace
            p.grad = None
        with torch.no_grad(), autocast():
            fake = G(z_d)
        with autocast():
            logits = D(torch.cat([real, fake.to(real.dtype)])).float()
        loss_d = d_loss(logits[:len(real)], logits[len(real):])
        loss_d.backward()
        opt_d.step()
        for p in g_params:
            p.grad = None
        for p in d_params:
            p.requires_grad_(False)
        with autocast():
            loss_g = g_loss(D(G(z_g)).float())
        loss_g.backward()
        opt_g.step()
        for p in d_params:
            p.requires_grad_(True)
        return torch.stack([loss_d.detach(), loss_g.detach()])

    # backward() breaks dynamo's graph; compiled autograd compiles each backward as a graph of its own.
    # (dynamo's trace_autograd_ops, which would keep it in one graph, failed on this pair in torch 2.14.1:
    # "attempting to assign a gradient of size [1] to a tensor of size [1, 256]".)
    torch._dynamo.config.compiled_autograd = True
    compiled = torch.compile(iteration)
    m = cfg.batch_size

    def run(n):
        for _ in range(n):
            real = trainer.data.sample(m, trainer.rng)
            z_d, z_g = (sample_z(m, cfg.latent_dim, cfg.prior, trainer.rng) for _ in range(2))
            losses = compiled(real, z_d, z_g)
            trainer._end_iteration()
        return losses
    return run


def main(argv):
    fields = dict(a.split("=", 1) for a in argv)
    rounds, iters, out = int(fields.pop("rounds", 4)), int(fields.pop("iters", 200)), fields.pop("json", None)
    fields.setdefault("model", "pytorch-mlp")
    cfg = make_config(data="mnist", **{k: FIELD_TYPES[k](v) for k, v in fields.items()})
    from torch._dynamo.utils import counters
    variants, compile_s, graphs = {}, {}, {}
    for name, make in (("trainer", lambda: random_mnist_trainer(cfg).step),
                       ("nets", lambda: random_mnist_trainer(cfg, compile=True).step),
                       ("whole", lambda: whole_iteration(random_mnist_trainer(cfg)))):
        t, before = time.perf_counter(), dict(counters["stats"])
        breaks = sum(counters["graph_break"].values())
        variants[name] = make()
        variants[name](20)
        compile_s[name] = round(time.perf_counter() - t, 1)
        # how whole the compiled code is: graphs dynamo made for this variant, and the breaks between them
        graphs[name] = {"graphs": counters["stats"]["unique_graphs"] - before.get("unique_graphs", 0),
                        "graph_breaks": sum(counters["graph_break"].values()) - breaks,
                        "break_reasons": sorted({k[:120] for k in counters["graph_break"]})}
    print(f"set-up and first 50 iterations, compiling included: {compile_s}", flush=True)
    print(f"dynamo: {graphs}", flush=True)
    rates = alternating_rates(variants, rounds, iters)
    if out:
        write_record(out, "compile_iteration.py", argv, cfg, fields, iters_per_round=iters, setup_seconds=compile_s,
                     dynamo=graphs, it_per_s=rates)

if __name__ == "__main__":
    main(sys.argv[1:])
