"""`ganlab.explore()`: the latent explorer as a notebook widget (the paper's Figure 3, walked).

Two endpoints in z (a seed each; on images also a test image through the generator's inference net
E: x -> z, where it has one, Sec. 7.2), the path between them by slerp or lerp (`latent.interpolate`),
a slider along it that shows G(z) there, the strip of the whole path and |z| along both paths. The
same functions as the app's explorer page (`ui/latent_page.py`): `latent`, `plots`, `inference`.

>>> ganlab.explore("checkpoints/mnist-dcgan.pt")      # doctest: +SKIP
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import ipywidgets as w
import torch

from .. import plots
from ..errors import GanlabError
from ..latent import interpolate, z_from_seed
from ..run import Run
from ..trainer import Trainer
from .widgetparts import figure_widget, png_bytes, refill

REFINE = 50             # search steps on z after E(x): G(z) closer to the image, in a second or so on a CPU
CANDIDATES = 8          # seeds 0..7 shown side by side, to pick endpoints from


def explore(source, device: str = "cpu") -> "Explorer":
    """The explorer of a generator: a checkpoint's path, a `Run` (or a lab: its run, as it is now) or a
    `Trainer`."""
    return Explorer(generator_of(source, device))


def generator_of(source, device: str = "cpu") -> Trainer:
    """The trainer to walk: loaded from a checkpoint, or a frozen copy of a run's latest snapshot."""
    source = getattr(source, "run", source)                   # a lab stands for its run
    if isinstance(source, Run):
        snap = source.snapshot()
        if snap.view is None:
            snap = source.sync()
        return snap.view
    if isinstance(source, Trainer):
        return source
    return Trainer.load(Path(source), device=device, training=False)


class Explorer(w.VBox):
    """Endpoints, path and position controls over G(z) along the path; see the module's text."""

    def __init__(self, trainer: Trainer):
        self.trainer, cfg = trainer, trainer.config
        self._z_cache: dict = {}
        self._x: torch.Tensor | None = None              # G along the current path, (steps, ...)
        self._paths: dict = {}
        kinds = ["seed", "test image"] if cfg.is_image and trainer.encoder is not None else ["seed"]
        self.ends = {which: (w.ToggleButtons(options=kinds, description=f"Endpoint {which}", style={"button_width": "90px"}),
                             w.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed or index"))
                     for which, seed in (("A", 0), ("B", 1))}
        self.method = w.ToggleButtons(options=["slerp", "lerp"], description="Path",
                                      tooltips=["spherical: keeps |z| where the prior puts its mass",
                                                "straight, as the paper's Figure 3"])
        self.steps = w.IntSlider(value=12, min=2, max=48, description="points", continuous_update=False)
        self.position = w.IntSlider(value=0, min=0, max=11, description="position")
        self.message = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="224px"))
        self.strip = w.Image(format="png", layout=w.Layout(width="100%"))
        self.plane = None if cfg.is_image else figure_widget()     # toy data: the path in the plane
        self.norms = figure_widget()
        for kind, number in self.ends.values():
            kind.observe(self._on_path, "value")
            number.observe(self._on_path, "value")
        for control in (self.method, self.steps):
            control.observe(self._on_path, "value")
        self.position.observe(lambda _: self._show_position(), "value")
        title = w.HTML(f"<b>{cfg.model}</b> generator on <b>{cfg.data}</b>, step {trainer.step_count:,}, z of "
                       f"{cfg.latent_dim} dims ({cfg.prior} prior)")
        parts = [title]
        if cfg.is_image:
            seeds = torch.stack([z_from_seed(s, cfg.latent_dim, cfg.prior) for s in range(CANDIDATES)])
            candidates = w.Image(value=png_bytes(plots.image_grid(trainer.sample(z=seeds), nrow=CANDIDATES), scale=2),
                                 format="png", layout=w.Layout(width="560px"))
            parts += [candidates, w.HTML(f"<i>candidates: seeds 0–{CANDIDATES - 1}, left to right</i>")]
        where = w.HBox([self.image]) if cfg.is_image else w.HBox([self.plane])
        parts += [w.HBox([w.VBox(list(self.ends["A"])), w.VBox(list(self.ends["B"]))]),
                  w.HBox([self.method, self.steps]), self.position, self.message,
                  w.HBox([where, w.Box([self.norms], layout=w.Layout(width="50%"))])]
        if cfg.is_image:
            parts.append(self.strip)
        super().__init__(parts)
        for widget, name in ((self, "ganlab-explore"), (self.image, "ganlab-gz"), (self.position, "ganlab-position")):
            widget.add_class(name)              # names a page (and the browser test) finds the parts by
        self._on_path()

    # ------------------------------------------------------------ the path
    def endpoint(self, which: str) -> torch.Tensor:
        """z of endpoint `which` ("A" or "B"): from its seed, or E(x) of a test image refined by search."""
        kind, number = self.ends[which]
        cfg = self.trainer.config
        if kind.value == "seed":
            return z_from_seed(number.value, cfg.latent_dim, cfg.prior)
        key = ("test", number.value)
        if key not in self._z_cache:
            from ..data import load_dataset
            from ..inference import encode

            test = load_dataset(cfg.data, train=False, image_size=cfg.image_size, channels=cfg.channels)
            x = test.images[number.value % len(test.images)].reshape(cfg.shape)
            self._z_cache[key] = encode(self.trainer, x[None], refine=REFINE)[0]
        return self._z_cache[key]

    def _on_path(self, _=None) -> None:
        try:
            a, b = self.endpoint("A"), self.endpoint("B")
        except GanlabError as exc:
            self.message.value = f"<span style='color:#b00'>{escape(str(exc))}</span>"
            return
        self.message.value = ""
        steps = self.steps.value
        self._paths = {m: interpolate(a, b, steps, m) for m in ("slerp", "lerp")}
        self._x = self.trainer.sample(z=self._paths[self.method.value])
        with self.position.hold_trait_notifications():
            self.position.max = steps - 1
            self.position.value = min(self.position.value, steps - 1)
        if self.trainer.config.is_image:
            self.strip.value = png_bytes(plots.image_grid(self._x, nrow=steps), scale=2)
        self._show_position()

    def _show_position(self) -> None:
        if self._x is None:
            return
        pos = min(self.position.value, len(self._x) - 1)
        if self.trainer.config.is_image:
            self.image.value = png_bytes(plots.image_grid(self._x[pos:pos + 1], nrow=1, padding=0), scale=8)
        else:
            refill(self.plane, plots.latent_path_figure(self.trainer, self._x, pos))
        refill(self.norms, plots.norms_figure(self._paths, current=pos))
