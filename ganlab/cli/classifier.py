"""`classifier`: the small CNN that the classifier metrics (class coverage, class KL, Fréchet
distance in its features) judge MNIST and Fashion-MNIST generators with.

    python -m ganlab classifier --data mnist --out checkpoints/classifier-mnist.pt
"""

from __future__ import annotations

from ..errors import ConfigError
from .core import add_data_root


def add_classifier(sub) -> None:
    cl = sub.add_parser("classifier", help="train the small CNN that the classifier metrics use")
    cl.add_argument("--data", required=True, help="mnist or fashion-mnist")
    cl.add_argument("--epochs", type=int, default=3, help="default: 3")
    cl.add_argument("--seed", type=int, default=0, help="default: 0")
    cl.add_argument("--out", required=True, help="where to write the weights")
    add_data_root(cl)
    cl.add_argument("--quiet", action="store_true", help="no progress bar")


def cmd_classifier(args) -> int:
    from ..classifier import fit, save_classifier

    if args.data not in ("mnist", "fashion-mnist"):
        raise ConfigError(f"the classifier is for mnist or fashion-mnist, not {args.data!r}")
    model, acc, seconds = fit(args.data, args.data_root, epochs=args.epochs, seed=args.seed, progress=not args.quiet)
    save_classifier(model, args.out, args.data, acc, seconds)
    print(f"test accuracy {acc:.4f} after {args.epochs} epochs ({seconds:.0f} s); saved to {args.out}")
    return 0
