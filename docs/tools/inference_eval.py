"""Inference (Sec. 7.2) and completion (Sec. 7.3) of a generator on held-out test images.

    python docs/tools/inference_eval.py checkpoints/mnist-dcgan.pt --images 500 --refine 200 \
        --out docs/bench/inference-mnist-dcgan-zen5.json
    python docs/tools/inference_eval.py checkpoints/mnist-cond.pt --images 500 --pool 16384 --pool-seed 0 \
        --out docs/bench/inference-mnist-cond-classnet-seed0-zen5.json
    python docs/tools/inference_eval.py checkpoints/mnist-cond.pt --images 500 --pool 163840 --pool-seed 0 \
        --class-from vote --out docs/bench/inference-mnist-cond-seed0-zen5.json

- Reconstruction (a checkpoint with an encoder; a conditional one searches as each image's own
  class): G(E(x)) and G(z) after `--refine` search steps from E(x); the shipped classifier's
  agreement between each test image's label and the class of its reconstruction, and the pixel MSE,
  beside a PCA reconstruction with as many components as z has coordinates (fit on the training set).
- Completion of the bottom half from the top and of the right half from the left: `--n` completions
  per image, each searched `--complete-steps` from a pool of `--pool` draws of z (seeded by
  `--pool-seed`; a conditional G completes as the class its class net names, where the checkpoint
  holds one, its pool drawn as that class, and with `--class-from vote` or without a class net as the
  class its draws vote for, the pool split over the classes); the classifier's
  agreement with the label for the first (best-fitting) completion and over all of them, beside a
  nearest-neighbour completion (the hidden half of the training image whose visible half is
  nearest), G's mean image as the hidden half (what the classifier makes of the visible half alone)
  and the real image; each judged whole and with the visible half blanked, so only the completed
  half is read.
- Speed, wall-clock on this machine: E on the `--images` test images, the search for all of them and
  for one, and the completion of all of them, a side at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from ganlab import Trainer
from ganlab.checkpoint import checkpoint_dir
from ganlab.classifier import load_classifier, predict
from ganlab.classinference import name_partly_seen
from ganlab.data import load_dataset
from ganlab.devices import cpu_model
from ganlab.inference import (COMPLETE_STEPS, POOL, complete, encode, named_mask, nearest_completion,
                              pca_reconstruction)


def agreement(model, images, labels) -> float:
    return float((predict(model, images)[0].argmax(1) == labels).float().mean())


def reconstruct(t, classifier, train, x, y, steps) -> tuple[dict, dict]:
    """G(E(x)) and G(z) searched `steps` from E(x), beside PCA with z's size; and their seconds."""
    labels = y if t.config.classes else None
    start = time.perf_counter()
    z_e = encode(t, x)
    seconds_e = time.perf_counter() - start
    start = time.perf_counter()
    z_r = encode(t, x, refine=steps, labels=labels)
    seconds_r = time.perf_counter() - start
    one = time.perf_counter()
    encode(t, x[:1], refine=steps, labels=None if labels is None else labels[:1])
    seconds_one = time.perf_counter() - one
    rec_e, rec_r = t.sample(z=z_e, labels=labels), t.sample(z=z_r, labels=labels)
    flat = x.reshape(len(x), -1)
    k = t.config.latent_dim
    pca = pca_reconstruction(train.images, flat, k)
    reconstruction = {
        "encoder": {"class_agreement": agreement(classifier, rec_e, y),
                    "pixel_mse": float((rec_e.reshape(len(x), -1) - flat).square().mean())},
        "refined": {"steps": steps, "class_agreement": agreement(classifier, rec_r, y),
                    "pixel_mse": float((rec_r.reshape(len(x), -1) - flat).square().mean())},
        f"pca_{k}": {"class_agreement": agreement(classifier, pca.reshape(x.shape), y),
                     "pixel_mse": float((pca - flat).square().mean())},
        "real_images": {"class_agreement": agreement(classifier, x, y)},
    }
    return reconstruction, {"encoder_on_images": seconds_e, "refine_all_images": seconds_r,
                            "refine_one_image": seconds_one}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--images", type=int, default=1000, help="held-out test images (default: 1000)")
    p.add_argument("--refine", type=int, default=200, help="search steps (default: 200)")
    p.add_argument("--n", type=int, default=4, help="completions per image (default: 4)")
    p.add_argument("--complete-steps", type=int, default=COMPLETE_STEPS,
                   help=f"search steps per completion (default: {COMPLETE_STEPS})")
    p.add_argument("--pool", type=int, default=POOL, help=f"prior draws the completions start from, split over "
                   f"the classes of a conditional G (default: {POOL})")
    p.add_argument("--seed", type=int, default=0, help="seed of the test images drawn (default: 0)")
    p.add_argument("--pool-seed", type=int, help="seed of the completions' pool of z (default: --seed)")
    p.add_argument("--class-from", choices=("net", "vote"), default="net",
                   help="how a conditional G names the class of a half-hidden image: its class net where the "
                        "checkpoint holds one (default), or the vote of its draws")
    p.add_argument("--out", help="JSON record to write")
    args = p.parse_args(argv)
    pool_seed = args.seed if args.pool_seed is None else args.pool_seed
    torch.manual_seed(args.seed)

    t = Trainer.load(args.checkpoint, device="cpu")
    if args.class_from == "vote":
        t.class_net = None
    class_from = None if not t.config.classes else "vote" if t.class_net is None else "class net"
    data = t.config.data
    classifier = load_classifier(checkpoint_dir() / f"classifier-{data}.pt", data)
    train, test = load_dataset(data, train=True), load_dataset(data, train=False)
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(args.seed))[:args.images]
    x, y = test.images[pick].reshape(-1, *test.shape), test.labels[pick]

    flat = x.reshape(len(x), -1)
    # a conditional G's reconstruction searches as the image's own class; a checkpoint without E has none
    reconstruction, seconds = (reconstruct(t, classifier, train, x, y, args.refine) if t.encoder is not None
                               else (None, {}))

    # ---- completion of the bottom half from the top, and of the right half from the left
    completion, seconds_c = {}, {}
    for side in ("bottom", "right"):
        hidden = named_mask(side, tuple(test.shape))
        start = time.perf_counter()
        filled = complete(t, x, hidden, n=args.n, steps=args.complete_steps, seed=pool_seed, pool=args.pool)
        seconds_c[side] = time.perf_counter() - start
        fills = {"gan_first": filled[:, 0], "gan_all": filled.flatten(0, 1),
                 "nearest_neighbour": nearest_completion(train.images, flat, hidden).reshape(x.shape),
                 "g_mean_image": x * (1 - hidden) + t.sample(1000, seed=args.seed).mean(0) * hidden,
                 "real_image": x}
        completion[side] = {"hidden": f"{side} half", "completions_per_image": args.n, "steps": args.complete_steps,
                            "pool": args.pool, "pool_seed": pool_seed, "class_from": class_from}
        if t.class_net is not None:         # how often the class net names the digit from the visible half
            named = name_partly_seen(t, x, hidden)
            completion[side]["class_net_names_label"] = float((named == y).float().mean())
        for name, images in fills.items():
            labels = y.repeat_interleave(args.n) if name == "gan_all" else y
            # whole: the visible half as given beside the completed one; completed half only: the visible
            # half blanked, so a completion cannot score by the half it was given
            completion[side][name] = {"class_agreement": agreement(classifier, images, labels),
                                      "completed_half_only": agreement(classifier, images * hidden, labels)}
        completion[side]["gan_first_beats_nearest_neighbour"] = (
            completion[side]["gan_first"]["class_agreement"] > completion[side]["nearest_neighbour"]["class_agreement"])

    record = {
        "command": "python docs/tools/inference_eval.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d"), "cpu": cpu_model(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "checkpoint": args.checkpoint, "step": t.step_count,
        "encoder_steps": t.encoder_steps, "test_images": len(x), "seed": args.seed,
        "class_net_steps": None if t.class_net is None else t.class_net.steps,
        "reconstruction": reconstruction, "completion": completion,
        "seconds": {**seconds, "complete_all_images": seconds_c},
    }
    text = json.dumps(record, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return record


if __name__ == "__main__":
    main()
