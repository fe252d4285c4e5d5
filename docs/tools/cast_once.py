"""Does casting the weights to bf16 once per update pay? Under bf16 autocast every pass casts each
Linear weight it uses (G's twice an iteration, D's twice), and autocast's cache lives only within one
autocast region (docs/performance.md, "Where the gap is"). This times, in alternating rounds on two
trainers of one seed in one process:

  trainer     `Trainer.step` with `precision=bf16`, the shipped path
  cast-once   the same iteration with bf16 copies of every Linear weight and bias, refreshed by one
              foreach copy right after their network's optimizer step and passed in with
              torch.func.functional_call; their gradients are cast back into the fp32 weights' .grad
              before Adam steps (the cast autocast's own backward makes)

    python docs/tools/cast_once.py [model=pytorch-mlp] [batch_size=64] [rounds=6] [iters=200] [json=PATH]

MNIST-shaped random images (no data needed); the plain case only (Adam, k = 1, nonsat, no penalty,
no classes), which is what the bench's roofline cases train.
"""

import sys

import torch
from profile_step import alternating_rates, random_mnist_trainer, write_record
from torch import nn
from torch.func import functional_call

from ganlab.config import FIELD_TYPES, make_config
from ganlab.latent import sample_z
from ganlab.losses import d_loss, g_loss


class Bf16Copies:
    """bf16 copies of a network's Linear weights and biases, refreshed in one foreach copy."""

    def __init__(self, net: nn.Module):
        linear = {id(p) for m in net.modules() if isinstance(m, nn.Linear) for p in m.parameters()}
        self.names = [n for n, p in net.named_parameters() if id(p) in linear]
        self.masters = [dict(net.named_parameters())[n] for n in self.names]
        self.copies = [p.detach().to(torch.bfloat16).requires_grad_(True) for p in self.masters]
        self.as_dict = dict(zip(self.names, self.copies))

    def refresh(self):
        with torch.no_grad():
            torch._foreach_copy_(self.copies, self.masters)

    def grads_to_masters(self):
        for master, copy in zip(self.masters, self.copies):
            master.grad = None if copy.grad is None else copy.grad.float()
            copy.grad = None

    def track(self, on: bool):
        for copy in self.copies:
            copy.requires_grad_(on)


def cast_once_iteration(trainer):
    cfg, G, D, opt_g, opt_d = trainer.config, trainer.G, trainer.D, trainer.opt_g, trainer.opt_d
    if cfg.k != 1 or cfg.r1 or cfg.classes or cfg.loss != "nonsat" or cfg.precision != "bf16":
        raise SystemExit("cast-once covers bf16, k = 1, nonsat, no R1, no classes")
    g16, d16 = Bf16Copies(G), Bf16Copies(D)
    m = cfg.batch_size

    def run(n):
        for _ in range(n):
            with torch.autocast("cpu", dtype=torch.bfloat16):
                real = trainer.data.sample(m, trainer.rng)
                z = sample_z(m, cfg.latent_dim, cfg.prior, trainer.rng)
                with torch.no_grad():
                    fake = functional_call(G, g16.as_dict, (z,))
                logits = functional_call(D, d16.as_dict, (torch.cat([real, fake.to(real.dtype)]),)).float()
                loss_d = d_loss(logits[:m], logits[m:])
                opt_d.zero_grad(set_to_none=True)       # the weights kept in fp32 (BatchNorm's) take theirs directly
                loss_d.backward()
                d16.grads_to_masters()
                opt_d.step()
                d16.refresh()
                z = sample_z(m, cfg.latent_dim, cfg.prior, trainer.rng)
                d16.track(False)
                loss_g = g_loss(functional_call(D, d16.as_dict, (functional_call(G, g16.as_dict, (z,)),)).float())
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                d16.track(True)
                g16.grads_to_masters()
                opt_g.step()
                g16.refresh()
            trainer._end_iteration()
        return loss_d, loss_g
    return run


def main(argv):
    fields = dict(a.split("=", 1) for a in argv)
    rounds, iters, out = int(fields.pop("rounds", 6)), int(fields.pop("iters", 200)), fields.pop("json", None)
    fields.setdefault("model", "pytorch-mlp")
    cfg = make_config(data="mnist", precision="bf16", **{k: FIELD_TYPES[k](v) for k, v in fields.items()})
    # the same numbers as autocast's casts? two fresh trainers of one seed, 20 iterations each
    plain, once = random_mnist_trainer(cfg), random_mnist_trainer(cfg)
    plain.step(20)
    cast_once_iteration(once)(20)
    diff = max(float((a - b).abs().max()) for a, b in zip(plain.G.state_dict().values(), once.G.state_dict().values()))
    print(f"G's weights after 20 iterations, largest difference from the trainer's: {diff:g}", flush=True)
    variants = {"trainer": plain.step, "cast-once": cast_once_iteration(once)}
    rates = alternating_rates(variants, rounds, iters)
    ratio = [round(b / a, 3) for a, b in zip(rates["trainer"], rates["cast-once"])]
    print(f"cast-once over trainer, round by round: {ratio}")
    if out:
        write_record(out, "cast_once.py", argv, cfg, fields, iters_per_round=iters,
                     g_weights_max_difference_after_20=diff, it_per_s=rates, cast_once_over_trainer=ratio)

if __name__ == "__main__":
    main(sys.argv[1:])
