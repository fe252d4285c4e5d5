"""Inference and completion with a trained generator: the paper's Sec. 7.2 and 7.3.

Sec. 7.2: "learned approximate inference can be performed by training an auxiliary network to
predict z given x ... for a fixed generator net after the generator net has finished training".
The encoder E is trained on pairs (z, G(z)) drawn from the fixed G, so it needs no real image and
G never changes. On a real image E(x) is a first guess (a real x lies off G's range, where E was
never trained); `search` then moves z by gradient descent on how far G(z) is from x: the squared
pixel error, plus the same on D's last hidden features, which weigh the strokes and shapes a
pixel error spreads thin.

Sec. 7.3: "one can approximately model all conditionals p(x_S | x_S̸) where S is a subset of the
indices of x". Completion holds the visible pixels, searches z so that G(z) agrees with them and
takes the hidden pixels from G(z). Its starts are the pool draws of z whose G(z) already match the
visible pixels best: E's guess on a half-blank image was a poorer start (E never saw such an
image), and these starts keep the digit more often (docs/results.md). A conditional G given no
class first picks one: by its class net where it has one (classinference.py), else by how well its
own draws of each class fit.

Images come in and go out in [0, 1] as `sample` writes them; inside, they are mapped to G's range.
"""

from __future__ import annotations

import warnings

import torch
from tqdm.auto import tqdm

from .classinference import name_classes
from .errors import ConfigError
from .labels import check, one_each
from .latent import sample_z
from .models import build_encoder, eval_mode, frozen

ENCODER_STEPS = 3000        # default training steps of E (batch 256)
ENCODER_BATCH = 256
CHUNK = 1000                # images searched at once: bounds the activations of the search
SEARCH_LR = 0.05
FEATURE_WEIGHT = 1.0        # of D's relative feature error against the pixel error in `search`
POOL = 16384                # prior draws a completion picks its starts from
KNN = 4                     # draws per class whose mean error is the class's vote (`vote`)
COMPLETE_STEPS = 200        # search steps per completion
MASKS = ("top", "bottom", "left", "right")


def train_encoder(trainer, steps: int = ENCODER_STEPS, batch: int = ENCODER_BATCH, lr: float = 1e-3,
                  seed: int = 0, progress: bool = True) -> dict:
    """Train (or go on training) `trainer.encoder` for `steps` steps on fresh (z, G(z)) pairs from the
    sampling generator (the weight average where there is one), G fixed in eval mode; z from the
    prior and, for a conditional G, classes from the training frequencies. Returns the mean squared
    z error over the last 100 steps, per coordinate (the prior's variance is 1)."""
    if steps < 1:
        raise ConfigError(f"encoder steps must be >= 1, got {steps}")
    cfg, device = trainer.config, trainer.device
    if trainer.encoder is None:
        trainer.encoder = build_encoder(cfg).to(device)
    E = trainer.encoder.train()
    opt = torch.optim.Adam(E.parameters(), lr=lr)
    gen = torch.Generator(device).manual_seed(seed + trainer.encoder_steps)    # more training, fresh pairs
    losses = torch.empty(steps, device=device)
    with eval_mode(trainer.sample_net) as G, frozen(G):
        for i in tqdm(range(steps), disable=not progress, unit="step", dynamic_ncols=True):
            z = sample_z(batch, cfg.latent_dim, cfg.prior, gen)
            with torch.no_grad():
                x = G(z, trainer.draw_labels(batch, gen)) if cfg.classes else G(z)
            loss = (E(x.float()) - z).square().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses[i] = loss.detach()
    E.eval()
    trainer.encoder_steps += steps
    trainer.encoder_g_step = trainer.step_count
    return {"steps": trainer.encoder_steps, "z_mse": float(losses[-100:].mean())}


def check_images(trainer, images) -> torch.Tensor:
    """`images` as a float tensor (n, C, H, W) in [0, 1] of the trainer's image shape, or ConfigError."""
    cfg = trainer.config
    if not cfg.is_image:
        raise ConfigError(f"this {cfg.data} generator makes points, not images: there is nothing to encode")
    shape = cfg.shape
    x = torch.as_tensor(images)
    if x.ndim == 3 and shape[0] == 1:
        x = x.unsqueeze(1)                              # (n, H, W) grayscale
    if x.ndim != 4 or tuple(x.shape[1:]) != shape or len(x) == 0:
        raise ConfigError(f"images must have shape (N, {', '.join(map(str, shape))}) for this {cfg.data} generator, "
                          f"got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ConfigError(f"images must be floats in [0, 1] (as `sample` writes them), got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        raise ConfigError("images hold NaN or inf values")
    if float(x.min()) < 0 or float(x.max()) > 1:
        raise ConfigError(f"images must lie in [0, 1] (as `sample` writes them), got values from "
                          f"{float(x.min()):g} to {float(x.max()):g}")
    return x.float()


def check_labels(trainer, labels, n: int) -> torch.Tensor | None:
    """One class per image for a conditional G (one given for all, or one each), None for an
    unconditional one (which refuses a class)."""
    if not trainer.config.classes:
        check(trainer.config, labels)                  # refuses a class for an unconditional G
        return None
    if labels is None:
        raise ConfigError("this generator is conditional: the search needs the class of the images (--label)")
    return one_each(check(trainer.config, labels), n, "image").to(trainer.device)


def _need_encoder(trainer):
    if trainer.encoder is None:
        raise ConfigError("this checkpoint has no encoder: train one with `python -m ganlab encoder CKPT`")
    if trainer.encoder_g_step != trainer.step_count:
        warnings.warn(f"the encoder was trained for G at step {trainer.encoder_g_step:,}, and G is now at step "
                      f"{trainer.step_count:,}: its guesses may be off; `python -m ganlab encoder CKPT` trains it on "
                      f"today's G", stacklevel=3)
    return trainer.encoder


@torch.no_grad()
def encode(trainer, images, refine: int = 0, labels=None) -> torch.Tensor:
    """z for each image (n, C, H, W) in [0, 1]: E(x), then `refine` steps of `search`; on the CPU."""
    E = _need_encoder(trainer)
    x = check_images(trainer, images)
    classes = check_labels(trainer, labels, len(x)) if refine or labels is not None else None
    target = trainer.to_g_range(x)
    with eval_mode(E):
        z = torch.cat([E(b) for b in target.split(CHUNK)])
    if refine:
        z = search(trainer, target, z, refine, labels=classes)
    return z.cpu()


def search(trainer, target: torch.Tensor, z: torch.Tensor, steps: int, visible: torch.Tensor | None = None,
           labels: torch.Tensor | None = None, lr: float = SEARCH_LR) -> torch.Tensor:
    """z after `steps` Adam steps from `z` on each image's own error between G(z) and `target` (in G's
    range): the mean squared pixel error over the `visible` pixels (1 = visible; all when None), plus,
    for whole images, FEATURE_WEIGHT times the squared error of D's last hidden features relative to
    the target's. Each image's error is summed, not averaged, so every z moves as if searched alone."""
    if steps < 0:
        raise ConfigError(f"search steps must be >= 0, got {steps}")
    if len(z) > CHUNK:                  # each image's z moves alone, so chunks give the same result
        part = lambda t, i: None if t is None else t[i:i + CHUNK]  # noqa: E731
        return torch.cat([search(trainer, target[i:i + CHUNK], z[i:i + CHUNK], steps, part(visible, i),
                                 part(labels, i), lr) for i in range(0, len(z), CHUNK)])
    G, D = trainer.sample_net, trainer.D
    use_features = visible is None and trainer.config.cond != "input"    # an input-conditioned D's phi needs c
    z = z.detach().clone().to(trainer.device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=lr)
    with torch.enable_grad(), eval_mode(G), eval_mode(D), frozen(G), frozen(D):
        if use_features:
            with torch.no_grad():
                phi = D.features(target).flatten(1)
                phi_norm = phi.square().sum(1).clamp_min(1e-12)
        for _ in range(steps):
            x = G(z, labels) if labels is not None else G(z)
            err = (x - target).square()
            loss = (err.mean(1) if visible is None else (err * visible).sum(1) / visible.sum(1).clamp_min(1))
            if use_features:
                loss = loss + FEATURE_WEIGHT * (D.features(x).flatten(1) - phi).square().sum(1) / phi_norm
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
    return z.detach()


def named_mask(name, shape: tuple[int, int, int]) -> torch.Tensor:
    """The hidden pixels (1 = hidden) as a (C, H, W) float mask: a half by name (top, bottom, left,
    right), or an array of the image's shape (H, W) or (C, H, W) whose nonzero entries are hidden."""
    c, h, w = shape
    if isinstance(name, str):
        if name not in MASKS:
            raise ConfigError(f"unknown mask {name!r}; choose one of: {', '.join(MASKS)}, or a .npy array")
        m = torch.zeros(c, h, w)
        {"top": m[:, :h // 2], "bottom": m[:, h // 2:], "left": m[:, :, :w // 2], "right": m[:, :, w // 2:]}[name].fill_(1)
        return m
    m = torch.as_tensor(name)
    if m.ndim == 2:
        m = m.unsqueeze(0).expand(c, -1, -1)
    if tuple(m.shape) != shape:
        raise ConfigError(f"a mask must have the image's shape ({h}, {w}) or ({c}, {h}, {w}), got {tuple(m.shape)}")
    if not bool(torch.isfinite(m.float()).all()):
        raise ConfigError("the mask holds NaN or inf values")
    m = (m != 0).float()
    if not 0 < float(m.mean()) < 1:
        raise ConfigError("the mask must hide some pixels and leave some visible")
    return m


def visible_error(target: torch.Tensor, visible: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """(N, P) squared error over each image's visible pixels between `target` (N, D) and every one of
    `candidates` (P, D), with `visible` (N, D) 1 where a pixel is seen; three matrix products, so a
    pool of thousands is scored at once."""
    return ((visible * target.square()).sum(1, keepdim=True) - 2 * (visible * target) @ candidates.T
            + visible @ candidates.square().T)


def _pool(trainer, z: torch.Tensor, classes) -> torch.Tensor:
    """G(z) in G's range, flattened, in chunks; `classes` one for all, one per z, or None."""
    G = trainer.sample_net
    if classes is not None and classes.ndim == 0:
        classes = classes.expand(len(z))
    parts = [G(b) if classes is None else G(b, c) for b, c in
             zip(z.split(CHUNK), classes.split(CHUNK) if classes is not None else [None] * len(z))]
    return torch.cat(parts).float().flatten(1)


def _nearest_draws(trainer, z, target, visible, classes, given, k: int):
    """(errors, indices), each (N, len(classes), k): per image and class, the `k` draws of z whose G(z)
    is nearest the image's visible pixels, best first; inf where an image's `given` class rules the
    class out. `classes` is [None] for an unconditional G."""
    n, device = len(target), target.device
    err = torch.full((n, len(classes), k), float("inf"), device=device)
    idx = torch.zeros(n, len(classes), k, dtype=torch.long, device=device)
    with eval_mode(trainer.sample_net):
        for j, c in enumerate(classes):
            rows = torch.arange(n, device=device) if given is None else (given == c).nonzero().flatten()
            if not len(rows):
                continue
            candidates = _pool(trainer, z, None if c is None else torch.tensor(c, device=device))
            for r in rows.split(CHUNK):
                err[r, j], idx[r, j] = visible_error(target[r], visible[r], candidates).topk(k, dim=1, largest=False)
    return err, idx


def vote(err: torch.Tensor) -> torch.Tensor:
    """Each image's class (N,) from its nearest draws' errors (N, classes, k): the class whose KNN
    nearest draws fit best on average. The single nearest draw's class is what a search over all
    classes implicitly takes, and one lucky draw decides it; a few average that luck out, while many
    would reach past a class's close draws into ones that fit no better than another digit's."""
    return err[:, :, :KNN].mean(2).argmin(1)


def pool_draws(cfg, voting: bool, pool: int = POOL) -> int:
    """The draws of z a completion scores as each class: the whole `pool` as one class, or
    `pool // classes` when a conditional G votes (one z set drawn as every class)."""
    return pool // cfg.classes if voting else pool


@torch.no_grad()
def complete(trainer, images, mask, n: int = 4, steps: int = COMPLETE_STEPS, labels=None, seed: int = 0,
             pool: int = POOL) -> torch.Tensor:
    """`n` completions of each image (N, C, H, W) in [0, 1] whose `mask` pixels (1 = hidden; shared
    (C, H, W) or one per image) are unknown: (N, n, C, H, W) in [0, 1], the visible pixels kept as
    given, best first.

    `pool` draws of z from the prior are scored against each image's visible pixels in one batch of G
    and matrix products; the `n` nearest are the starts, each searched on the visible pixels, and the
    completions are ordered by how closely they end up matching them. A conditional G completes as
    class `labels` (one for all, or one per image), its pool drawn as that class. Without them, its
    class net (classinference.py) names the class where the checkpoint holds one, the pool drawn as
    that class; else the same `pool // classes` draws are drawn as every class (one z set, so no class
    is favoured by luckier draws) and the image completes as the class its draws vote for (`vote`)."""
    if n < 1:
        raise ConfigError(f"completions per image must be >= 1, got {n}")
    cfg, device = trainer.config, trainer.device
    named = bool(cfg.classes) and labels is None and trainer.class_net is not None
    voting = bool(cfg.classes) and labels is None and not named
    classes = list(range(cfg.classes)) if cfg.classes else [None]
    draws, k = pool_draws(cfg, voting, pool), max(n, KNN) if voting else n
    if draws < k:
        per = f" per class ({k * cfg.classes} over {cfg.classes} classes)" if voting else ""
        raise ConfigError(f"the pool of starts must hold at least {k} draws{per} for {n} completions, got {pool}")
    x = check_images(trainer, images)
    hidden = torch.as_tensor(mask, dtype=torch.float32)
    hidden = hidden.expand(len(x), *x.shape[1:]) if hidden.ndim == 3 else hidden
    if hidden.shape != x.shape:
        raise ConfigError(f"a mask must have the image's shape {tuple(x.shape[1:])}, or one per image")
    visible = (1 - hidden).reshape(len(x), -1).to(device)
    target = trainer.to_g_range(x).reshape(len(x), -1).to(device)
    z = sample_z(draws, cfg.latent_dim, cfg.prior, torch.Generator().manual_seed(seed)).to(device)
    given = check_labels(trainer, labels, len(x)) if cfg.classes and labels is not None else None
    if named:
        given = name_classes(trainer, target, visible)
    err, idx = _nearest_draws(trainer, z, target, visible, classes, given, k)
    pick = vote(err)                            # the given class where there is one (the others are inf)
    start = z[idx[torch.arange(len(x), device=device), pick, :n].flatten()]
    cls = pick.repeat_interleave(n) if cfg.classes else None                # classes are 0..C-1: the pick is the class
    target, visible = target.repeat_interleave(n, 0), visible.repeat_interleave(n, 0)
    found = search(trainer, target, start, steps, visible=visible, labels=cls)
    fill = trainer.sample(z=found, labels=cls)                                      # in [0, 1], on the CPU
    fit = ((trainer.to_g_range(fill).reshape(len(found), -1).to(device) - target).square() * visible).sum(1)
    order = fit.reshape(len(x), n).argsort(1).cpu()
    fill = fill.reshape(len(x), n, *x.shape[1:])[torch.arange(len(x))[:, None], order]
    seen = (1 - hidden).reshape(len(x), 1, *x.shape[1:]).cpu()
    return x[:, None] * seen + fill * (1 - seen)          # the visible pixels exactly as given


def pca_reconstruction(train_images: torch.Tensor, images: torch.Tensor, components: int) -> torch.Tensor:
    """The linear reference for a code of `components` numbers: images (n, dim) in [0, 1] projected on the
    training set's first principal components, (n, dim) in [0, 1]."""
    mean = train_images.mean(0)
    _, _, v = torch.pca_lowrank(train_images - mean, q=components, center=False, niter=4)
    return ((images - mean) @ v @ v.T + mean).clamp(0, 1)


def nearest_completion(train_images: torch.Tensor, images: torch.Tensor, hidden: torch.Tensor) -> torch.Tensor:
    """The reference completion: each image's hidden pixels (`hidden`, (dim,) with 1 = hidden) taken from
    the training image whose visible pixels are nearest; images (n, dim) in [0, 1] -> (n, dim)."""
    seen = hidden.reshape(-1) == 0
    nearest = torch.cat([torch.cdist(b[:, seen], train_images[:, seen]).argmin(1) for b in images.split(250)])
    return torch.where(seen, images, train_images[nearest])
