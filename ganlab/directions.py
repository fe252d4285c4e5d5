"""Directions in z that mean something: found in a trained generator, named by what they change,
kept in its checkpoint, and moved along with other attributes held still.

Three ways to find them, each giving unit vectors in z:

- **sefa** (Shen & Zhou, 2021): closed form. G's first layer maps z to h = A z + b, so a move of z
  along a unit vector n moves h by A n, most where n is the top eigenvector of AᵀA. When BatchNorm
  follows the layer, in eval mode it scales each unit of h by γ / √(var + ε), so A here is the
  layer's weight with its rows scaled so: the map z → h that G actually applies.
- **ganspace** (Härkönen et al., 2020): PCA of G's first block's activations over many samples; the
  principal axes live in activation space, and least squares carries each sample's coordinates
  along them back to z, giving one direction in z per axis.
- **attributes** (InterFaceGAN, Shen et al., 2020): for each attribute of `attributes.py` (ink,
  slant, width, height), a linear boundary in z between the quarter of G's own samples with the most
  of it and the quarter with the least; its unit normal, with the class boundaries projected out, is
  the direction. For each class k, the boundary between the samples the project's classifier calls
  k and the rest. A conditional G takes
  its class as an input, so it has no class directions in z (pick the class with `--label`).

sefa and ganspace directions come unnamed; each is named by the attribute that follows it most
closely along paths through it (median Spearman ρ of at least `NAMED_RHO`), sign turned so the
attribute grows, or left numbered when none does.

Moving z by `amount` is z + amount·σ·n, σ = 1 the prior's standard deviation (both priors have unit
variance: `latent.py`). With `keep`, n first has the kept directions projected out (InterFaceGAN's
conditional manipulation), so their attributes stay put to first order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from . import attributes
from .checkpoint import checkpoint_dir, load_checkpoint, update_stored
from .errors import CheckpointError, ConfigError
from .latent import sample_z
from .models import eval_mode
from .sampling import as_output

METHODS = ("sefa", "ganspace", "attributes")
NAMED_RHO = 0.8         # a found direction takes an attribute's name when it follows it this closely
MAX_AMOUNT = 5.0        # prior standard deviations: farther than this, z leaves where G was trained
PATH = torch.linspace(-2.0, 2.0, 9)       # amounts along which a direction is judged and named
KEY = "directions"      # the checkpoint's optional entry


@dataclass(frozen=True)
class Direction:
    name: str
    vector: torch.Tensor    # (latent_dim,), unit length
    method: str             # one of METHODS
    score: float            # sefa/ganspace: median Spearman ρ of the named attribute (0 if unnamed); attributes: the boundary's held-out accuracy
    attribute: str | None   # what it changes: an attribute's name, "class k", or None

    def as_entry(self) -> dict:
        return {"name": self.name, "vector": self.vector.float().cpu(), "method": self.method,
                "score": float(self.score), "attribute": self.attribute}


# ------------------------------------------------------------------ finding
def _first_layer(G: nn.Module) -> tuple[torch.Tensor, int]:
    """The weight (out, latent_dim) of the map z -> h that G's first layer applies (BatchNorm's eval
    scale folded in), and the index of the module after which G's first block ends."""
    body = list(G.net)
    first = body[0]
    weight = getattr(first, "weight", None)
    if weight is None or weight.dim() != 2:
        raise ConfigError(f"G's first layer is a {type(first).__name__}, not a linear map of z: sefa and "
                          "ganspace need one; use --method attributes")
    weight = weight.detach().float()[:, :G.latent_dim]                 # a conditional G's class columns dropped
    end = 0
    if len(body) > 1 and isinstance(body[1], nn.BatchNorm1d):
        bn = body[1]
        weight = weight * (bn.weight.detach() / (bn.running_var + bn.eps).sqrt())[:, None]
        end = 1
    while end + 1 < len(body) and not isinstance(body[end], (nn.ReLU, nn.LeakyReLU, nn.Tanh, nn.ELU, nn.GELU)):
        end += 1
    return weight, end


def sefa(trainer, n: int = 10) -> list[torch.Tensor]:
    """The top n eigenvectors of AᵀA (see the module's text), largest first."""
    weight, _ = _first_layer(trainer.sample_net)
    _, vectors = torch.linalg.eigh(weight.T.double() @ weight.double())
    return [vectors[:, -1 - i].float() for i in range(min(n, weight.shape[1]))]


@torch.inference_mode()
def ganspace(trainer, n: int = 10, samples: int = 5000, seed: int = 0) -> list[torch.Tensor]:
    """n directions in z from PCA of G's first-block activations over `samples` draws."""
    cfg, G = trainer.config, trainer.sample_net
    _, end = _first_layer(G)
    z = sample_z(samples, cfg.latent_dim, cfg.prior, torch.Generator().manual_seed(seed))
    with eval_mode(G) as net:
        x = z.to(trainer.device)
        if cfg.classes:
            labels = trainer.draw_labels(samples, torch.Generator().manual_seed(seed + 1)).to(trainer.device)
            x = torch.cat([x, net.embed(labels).to(x.dtype)], dim=1)
        h = net.net[:end + 1](x).flatten(1).float().cpu()
    h = h - h.mean(0)
    # A randomized SVD (Halko et al., 2011): the top n axes of a (samples, units) matrix in seconds
    # where the full one takes a minute; seeded, so a run finds the same directions.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        _, _, v = torch.svd_lowrank(h, q=n + 10, niter=4)           # columns of v: the principal axes
    coords = h @ v[:, :n]                                            # (samples, n)
    # Least squares z ≈ coords · U: row i of U is the move in z that goes with one unit along axis i.
    u = torch.linalg.lstsq(coords.double(), (z - z.mean(0)).double()).solution.float()
    return [row / row.norm() for row in u]


@torch.inference_mode()
def along(trainer, z: torch.Tensor, vector: torch.Tensor, amounts: torch.Tensor = PATH) -> torch.Tensor:
    """G's images along z + t·vector for each t in amounts: (len(z), len(amounts), C, H, W)."""
    zs = (z[:, None, :] + amounts[None, :, None] * vector[None, None, :]).reshape(-1, z.shape[1])
    images = trainer.sample(z=zs, labels=_labels_for(trainer, len(z), len(amounts)))
    return images.reshape(len(z), len(amounts), *images.shape[1:])


def _labels_for(trainer, paths: int, points: int):
    if not trainer.config.classes:
        return None
    labels = trainer.draw_labels(paths, torch.Generator().manual_seed(1)).cpu()
    return labels.repeat_interleave(points)


def path_correlations(images: torch.Tensor, amounts: torch.Tensor = PATH) -> dict[str, torch.Tensor]:
    """For images (paths, points, C, H, W) along paths, each attribute's Spearman ρ with the amount,
    one per path."""
    flat = images.flatten(0, 1)
    ranks = amounts.expand(images.shape[0], -1)
    return {name: attributes.spearman(ranks, values.reshape(images.shape[:2]))
            for name, values in attributes.measure(flat).items()}


def name_found(trainer, vectors: list[torch.Tensor], method: str, paths: int = 100, seed: int = 0) -> list[Direction]:
    """Name each found vector by the attribute that follows it most closely, turned so it grows."""
    cfg = trainer.config
    z = sample_z(paths, cfg.latent_dim, cfg.prior, torch.Generator().manual_seed(seed))
    found = []
    for i, vector in enumerate(vectors, start=1):
        rho = {name: float(r.median()) for name, r in path_correlations(along(trainer, z, vector)).items()}
        best = max(rho, key=lambda name: abs(rho[name]))
        named = abs(rho[best]) >= NAMED_RHO
        vector = vector * (-1.0 if named and rho[best] < 0 else 1.0)
        found.append(Direction(f"{method}-{i}-{best}" if named else f"{method}-{i}", vector, method,
                               abs(rho[best]) if named else 0.0, best if named else None))
    return found


@torch.inference_mode()
def fit_attributes(trainer, samples: int = 4000, seed: int = 0, classify=None) -> list[Direction]:
    """InterFaceGAN's boundaries on G's own samples: one per attribute, and one per class when
    `classify` (images -> predicted class) is given and G is unconditional."""
    from sklearn.linear_model import LogisticRegression

    cfg = trainer.config
    z = sample_z(samples, cfg.latent_dim, cfg.prior, torch.Generator().manual_seed(seed))
    images = trainer.sample(z=z, labels=_labels_for(trainer, samples, 1))
    split = int(0.8 * samples)                   # boundaries fitted on the first 80 %, scored on the rest

    def boundary(target: torch.Tensor, chosen: torch.Tensor, name: str, attribute: str) -> Direction:
        train, test = chosen[chosen < split], chosen[chosen >= split]
        fit = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(z[train].numpy(), target[train].numpy())
        score = fit.score(z[test].numpy(), target[test].numpy()) if len(test) else float("nan")
        normal = torch.as_tensor(fit.coef_[0], dtype=torch.float32)
        return Direction(name, normal / normal.norm(), "attributes", float(score), attribute)

    classes = []
    if classify is not None and not cfg.classes:
        predicted = classify(images)
        classes = [boundary((predicted == k).long(), torch.arange(samples), f"class-{k}", f"class {k}")
                   for k in range(int(predicted.max()) + 1)]
    found = []
    for name, values in attributes.measure(images).items():
        order = values.argsort()
        quarter = samples // 4
        chosen = torch.cat([order[:quarter], order[-quarter:]])
        target = torch.zeros(samples, dtype=torch.long)
        target[order[-quarter:]] = 1
        d = boundary(target, chosen, name, name)
        # Bold digits are more often 0s than 1s: the boundary of an attribute leans towards the classes
        # it is common in. With the class boundaries projected out, the move changes the attribute
        # within the class the digit has (InterFaceGAN's conditional manipulation, Sec. 3.3).
        found.append(Direction(name, conditional(d.vector, [c.vector for c in classes]), d.method, d.score, name))
    return found + classes


def find(trainer, method: str, n: int = 10, samples: int = 5000, seed: int = 0, classify=None) -> list[Direction]:
    """Directions of one method (see the module's text), named."""
    if not trainer.config.is_image:
        raise ConfigError(f"{trainer.config.data} is not image data: the attributes that name directions "
                          "(ink, slant, width, height, class) are measured on images")
    if method == "sefa":
        return name_found(trainer, sefa(trainer, n), "sefa", seed=seed)
    if method == "ganspace":
        return name_found(trainer, ganspace(trainer, n, samples, seed), "ganspace", seed=seed)
    if method == "attributes":
        return fit_attributes(trainer, samples, seed, classify)
    raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")


def class_of(classifier, images: torch.Tensor) -> torch.Tensor:
    """The class the project's classifier gives each image (n, 1, 28, 28) in [0, 1]."""
    from .classifier import predict

    return predict(classifier, images)[0].argmax(1)


def classifier_for(data: str, path=None):
    """The project's classifier of `data` (checkpoints/classifier-DATA.pt unless `path`), which names
    classes and keeps them; None for data it does not classify."""
    from .classifier import load_classifier

    if data not in ("mnist", "fashion-mnist"):
        if path:
            raise ConfigError(f"--classifier: the classifiers are for mnist and fashion-mnist, not {data!r}")
        return None
    path = Path(path) if path else checkpoint_dir() / f"classifier-{data}.pt"
    if not path.is_file():
        raise ConfigError(f"no classifier at {path}; train one with `python -m ganlab classifier --data {data} "
                          f"--out {path}`, or pass --classifier")
    return load_classifier(path, data)


# ------------------------------------------------------------------ keeping
def read(source) -> dict[str, Direction]:
    """The directions kept in a checkpoint (a path or an open file), by name; {} for a file without."""
    return _by_name(load_checkpoint(source))


def _by_name(state: dict) -> dict[str, Direction]:
    return {e["name"]: Direction(e["name"], e["vector"].float(), e["method"], e["score"], e["attribute"])
            for e in state.get(KEY) or []}


def store(path, found: list[Direction]) -> dict[str, Direction]:
    """Add `found` to the checkpoint at `path`, replacing what the same methods found before; return
    all it keeps. The rest of the file is untouched, so it loads as before."""
    def add(state):
        dim = state["config"]["latent_dim"]
        if any(d.vector.shape != (dim,) for d in found):
            raise CheckpointError(f"{path}: these directions are not of its latent_dim {dim}")
        methods = {d.method for d in found}
        kept = [e for e in state.get(KEY) or [] if e["method"] not in methods]
        state[KEY] = kept + [d.as_entry() for d in found]

    return _by_name(update_stored(path, add))


# ------------------------------------------------------------------ moving
def parse_moves(text: str) -> dict[str, float]:
    """'ink=1.5,slant=-1' -> {'ink': 1.5, 'slant': -1.0}, amounts in prior standard deviations."""
    moves = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, amount = part.partition("=")
        try:
            value = float(amount)
        except ValueError:
            value = math.nan
        if not sep or not name or not math.isfinite(value):
            raise ConfigError(f"--move takes NAME=AMOUNT[,NAME=AMOUNT], e.g. ink=1.5,slant=-1; got {part!r}")
        if abs(value) > MAX_AMOUNT:
            raise ConfigError(f"--move {name}={amount}: at most {MAX_AMOUNT:g} prior standard deviations either way "
                              "(farther, z leaves the region G was trained on)")
        moves[name.strip()] = value
    return moves


def check_names(found: dict[str, Direction], names, source: str = "this checkpoint") -> None:
    if not found:
        raise ConfigError(f"{source} holds no directions; find some first: python -m ganlab directions CKPT")
    unknown = [n for n in names if n not in found and n != "class"]
    if unknown:
        raise ConfigError(f"no direction named {', '.join(map(repr, unknown))} in {source}; it has "
                          f"{', '.join(sorted(found))}")


def move(z: torch.Tensor, found: dict[str, Direction], moves: dict[str, float], keep=()) -> torch.Tensor:
    """z (n, latent_dim) moved along the named directions, with the directions named in `keep`
    projected out first so their attributes stay put (to first order)."""
    check_names(found, list(moves) + list(keep))
    both = set(moves) & set(keep)
    if both:
        raise ConfigError(f"{', '.join(sorted(both))} is both moved and kept; drop it from one of --move and --keep")
    kept = [found[k].vector for k in keep]
    return z + sum(amount * conditional(found[name].vector, kept) for name, amount in moves.items())


def move_keeping_class(trainer, classifier, z: torch.Tensor, found: dict[str, Direction], moves: dict[str, float],
                       keep=(), substeps: int = 8) -> torch.Tensor:
    """`move`, with each z's class (the classifier's, of G(z)) kept along the way.

    A class boundary of G is curved in z, so no one direction keeps it over a long move: the move is
    taken in `substeps` steps, each with the gradient of log p(class | G(z)) projected out at the
    point it starts from, and scaled so that every step still covers its share of the move."""
    target = move(z, found, moves, keep) - z                  # the whole move, per row
    start = class_of(classifier, trainer.sample(z=z))
    G, classifier = trainer.sample_net, classifier.eval()
    out, step = z.clone(), target / substeps
    with eval_mode(G) as net:
        for _ in range(substeps):
            x = out.detach().requires_grad_(True)
            images = as_output(trainer, net(x.to(trainer.device))).cpu()
            logp = torch.log_softmax(classifier.head(classifier.features(images)), 1).gather(1, start[:, None]).sum()
            g, = torch.autograd.grad(logp, x)
            g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
            free = step - (g * step).sum(1, keepdim=True) * g
            # Scaled back to the step's length along the move, unless the class gradient takes most of it.
            along_move = (free * step).sum(1, keepdim=True) / step.pow(2).sum(1, keepdim=True).clamp_min(1e-12)
            out = (out + free / along_move.clamp_min(0.5)).detach()
    return out


def conditional(vector: torch.Tensor, kept: list[torch.Tensor]) -> torch.Tensor:
    """`vector` with the span of `kept` projected out, unit length again (InterFaceGAN, Sec. 3.3)."""
    if not kept:
        return vector
    q, _ = torch.linalg.qr(torch.stack(kept, dim=1))
    moved = vector - q @ (q.T @ vector)
    return moved / moved.norm().clamp_min(1e-12)
