"""`ganlab.lab()`: a live run as a notebook widget (ipywidgets), the Train page's lab in Jupyter.

The widget is a view of a `Run` (`lab.run`), as the app's page is: its buttons and sliders send the
run commands, and a refresh thread of its own reads the run's snapshots and draws them into
FigureWidgets and an image in place. Nothing here trains: the run's worker does. A structural change
(dataset, size of z, a loss with another meaning of D's output) asks before it discards a run that
has trained, with the app's wording (`Config.structural_diff`, `needs_new_run`).

The refresh thread reads the run only while the widget is on a page (the front end counts its views
in `_view_count`), so a lab in a notebook run headless (nbclient, a script) draws nothing and leaves
its run to pause by itself when nobody watches, as the app's runs do. `lab.close()` stops the thread
and the run; a kernel that stops takes both with it (daemon threads, and the runs' own exit hook).

>>> lab = ganlab.lab(data="ring")       # doctest: +SKIP
>>> lab.run.step(100).result()["step"]  # doctest: +SKIP
100
"""

from __future__ import annotations

import atexit
import threading
import traceback
import weakref
from html import escape

import ipywidgets as w

from ..catalog import IMAGE_DATASETS, TOY_DATASETS
from ..config import LR_LADDER, Config, make_config, needs_new_run, rules
from ..errors import GanlabError
from ..lossdefs import LOSS
from ..run import Run, Snapshot
from ..trainer import Trainer
from .painter import ViewOptions, paint
from .widgetparts import figure_widget, png_bytes, refill

REFRESH_S = 1.0           # a drawing at most this often while the run plays (the run publishes once a second)
IDLE_S = 0.5              # how often a paused lab looks for news (a command sent from a cell, a new view)
PAINT_KEY = ("ganlab.lab", ViewOptions())      # what the lab asks the run's worker to draw (`Run.paint`)
DATA_CHOICES = (*TOY_DATASETS, *(d for d in ("digits", "mnist", "fashion-mnist") if d in IMAGE_DATASETS))
SETTINGS = ("data", "loss", "latent_dim", "k", "lr_g", "lr_d")
WAITING = "Press <b>Play</b> (or <b>Step</b>) to start training."

_LABS: weakref.WeakSet = weakref.WeakSet()


def lab(device: str = "cpu", **settings) -> "Lab":
    """A live lab on a new run of `make_config(**settings)` (e.g. `data="ring", k=2`)."""
    return Lab(Run(Trainer(make_config(**settings), device=device)))


class Lab(w.VBox):
    """Controls, header, the data view and the game's curves of one run; see the module's text."""

    def __init__(self, run: Run):
        self.run = run
        self._stop, self._wake = threading.Event(), threading.Event()
        self._draw_lock = threading.Lock()      # one drawing at a time (the thread's, or a test's `refresh`)
        self._quiet = threading.local()         # set while the lab itself moves a control: no command then
        self._in_flight = 0                     # commands sent and not done: the controls wait to follow the run
        self._count_lock = threading.Lock()     # guards `_in_flight` (a command's Future is done in the worker)
        self._asked: Config | None = None       # the settings a pending structural change asks for
        self._seen_version = -1
        self._shown: Config | None = None
        self.header = w.HTML()
        self.message = w.HTML()
        self.play = w.ToggleButton(description="Play", icon="play", tooltip="train continuously in the background")
        self.play.observe(self._on_play, "value")
        self.buttons = {name: self._button(name, command, tooltip) for name, command, tooltip in (
            ("Step", lambda: self.run.step(1), "one iteration: k D steps + 1 G step"),
            ("D step", self.run.d_step, "slow motion: one D step alone"),
            ("G step", self.run.g_step, "slow motion: one G step alone, ending the iteration"),
            ("Reset", self.run.reset, "start over with the same seed"),
            ("New seed", self.run.new_seed, "start over with the next seed"))}
        self.controls = {name: self._control(name) for name in SETTINGS}
        self.ask_text = w.HTML()
        self.confirm = self._button("Start new run", self._confirm, style="danger")
        self.keep = self._button("Keep current run", self._keep)
        self.ask = w.VBox([self.ask_text, w.HBox([self.confirm, self.keep])])
        self.ask.layout.display = "none"
        self.history = figure_widget(_waiting_figure())
        self.samples = w.Image(format="png", layout=w.Layout(width="420px"))
        self.plane = figure_widget()
        self.view = w.Box([self.plane], layout=w.Layout(width="48%"))
        self.history.layout.height = 560
        charts = w.HBox([self.view, w.Box([self.history], layout=w.Layout(width="52%"))])
        settings = w.GridBox(list(self.controls.values()), layout=w.Layout(grid_template_columns="repeat(3, 33%)"))
        super().__init__([self.header, w.HBox([self.play, *self.buttons.values()]), settings, self.ask, self.message, charts])
        for widget, name in ((self, "ganlab-lab"), (self.history, "ganlab-history"), (self.plane, "ganlab-plane")):
            widget.add_class(name)              # names a page (and the browser test) finds the parts by
        self._view_count = 0                    # the front end counts the views on pages from here on
        self.observe(lambda _: self._wake.set(), "_view_count")
        self._follow(run.snapshot().config)
        run.paint(PAINT_KEY, lambda view: paint(view, PAINT_KEY[1]))    # the worker draws each snapshot
        self.refresh()                          # the run as it starts, also in a notebook saved headless
        self._thread = threading.Thread(target=self._loop, name="ganlab-lab", daemon=True)
        self._thread.start()
        _LABS.add(self)

    # ------------------------------------------------------------ reading the run
    @property
    def watched(self) -> bool:
        """Whether a page shows the lab (or views are not counted, as outside a front end that counts)."""
        return self._view_count is None or self._view_count > 0

    def refresh(self) -> Snapshot:
        """Draw the run's latest snapshot, if it is new; return it. The refresh thread calls this."""
        with self._draw_lock:
            snap = self.run.snapshot()
            if snap.version != self._seen_version:
                self._seen_version = snap.version
                self._draw(snap)
            return snap

    def _loop(self) -> None:
        while not self._stop.is_set():
            playing = self.watched and self.run.snapshot().playing
            woken = self._wake.wait(REFRESH_S if playing else IDLE_S)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self.watched or woken:
                try:
                    self.refresh()
                except Exception as exc:        # a drawing's bug is shown, and the next refresh tries again
                    traceback.print_exception(exc)
                    self.message.value = f"<b>Could not draw the run</b>: {escape(str(exc))}"

    def _draw(self, snap: Snapshot) -> None:
        cfg = snap.config
        words = snap.status or snap.note
        self.message.value = f"<span style='color:#b00'>{escape(words)}</span>" if words else ""
        if not self._in_flight:
            self._quietly(lambda: setattr(self.play, "value", snap.playing))
            if self._asked is None and cfg != self._shown:
                self._follow(cfg)
        if snap.view is not None:
            self._draw_views(snap)
        self.header.value = header_html(snap)   # last: a header that names a step means all of it is drawn

    def _draw_views(self, snap: Snapshot) -> None:
        cfg = snap.config
        drawn = snap.drawn[1] if snap.drawn and snap.drawn[0] == PAINT_KEY else paint(snap.view, PAINT_KEY[1])
        if cfg.is_image:
            self.samples.value = png_bytes(drawn["main"], scale=2 if cfg.data == "digits" else 1)
            self.view.children = (self.samples,)
        else:
            refill(self.plane, drawn["main"])
            self.view.children = (self.plane,)
        if drawn["history"] is not None:
            refill(self.history, drawn["history"])
        elif len(self.history.data):            # a new run: no curves until it trains
            refill(self.history, _waiting_figure())

    # ------------------------------------------------------------ controls
    def _button(self, description: str, command, tooltip: str = "", style: str = "") -> w.Button:
        button = w.Button(description=description, tooltip=tooltip, button_style=style)
        button.on_click(lambda _: self._command(command()))
        return button

    def _command(self, future) -> None:
        """Note a command in flight until its Future is done, then draw what it did at once."""
        if future is None:
            return
        with self._count_lock:
            self._in_flight += 1

        def done(_):
            with self._count_lock:
                self._in_flight -= 1
            self._wake.set()
        future.add_done_callback(done)

    def _on_play(self, change) -> None:
        if not getattr(self._quiet, "on", False):
            self._command(self.run.play() if change["new"] else self.run.pause())
        self.play.description, self.play.icon = ("Pause", "pause") if change["new"] else ("Play", "play")

    def _control(self, name: str) -> w.ValueWidget:
        rule, style = rules(name), {"description_width": "initial"}
        label = {"latent_dim": "latent_dim", "k": "k (D steps per G step)"}.get(name, rule["label"])
        if name in ("data", "loss"):
            control = w.Dropdown(options=DATA_CHOICES if name == "data" else rule["choices"], description=label,
                                 style=style)
        elif name in ("lr_g", "lr_d"):
            control = w.SelectionSlider(options=[(f"{v:g}", v) for v in LR_LADDER], description=label, style=style,
                                        continuous_update=False)
        else:
            control = w.IntSlider(min=1, max=rule.get("widget_max", 20) if name == "k" else 128, description=label,
                                  style=style, continuous_update=False)
        control.tooltip = rule["help"]
        control.add_class(f"ganlab-{name}")
        control.observe(lambda change: self._on_setting(name, change["new"]), "value")
        return control

    def _follow(self, cfg: Config) -> None:
        """Controls show `cfg` (values outside a slider's range or ladder are added to it)."""
        def show():
            for name, control in self.controls.items():
                value = getattr(cfg, name)
                if isinstance(control, w.SelectionSlider) and value not in [v for _, v in control.options]:
                    control.options = sorted([*control.options, (f"{value:g}", value)], key=lambda o: o[1])
                elif isinstance(control, w.IntSlider) and value > control.max:
                    control.max = value
                elif isinstance(control, w.Dropdown) and value not in control.options:
                    control.options = (*control.options, value)
                control.value = value
        self._quietly(show)
        self._shown = cfg

    def _quietly(self, change) -> None:
        self._quiet.on = True
        try:
            change()
        finally:
            self._quiet.on = False

    def _on_setting(self, name: str, value) -> None:
        if getattr(self._quiet, "on", False):
            return
        live = self._asked or self.run.config
        try:
            wanted = wanted_config(live, name, value)
        except GanlabError as exc:
            self.message.value = f"<span style='color:#b00'>{escape(str(exc))}</span>"
            self._follow(live)
            return
        names = self.run.config.structural_diff(wanted)
        if names and self.run.snapshot().step > 0:
            self._asked = wanted
            self._follow(wanted)
            changes = "; ".join(f"{n}: {getattr(self.run.config, n)} → {getattr(wanted, n)}" for n in names)
            why = needs_new_run(names)
            self.ask_text.value = (f"<b>{escape(changes)}.</b> {escape(why[0].upper() + why[1:])}: the current run "
                                   f"(step {self.run.snapshot().step:,}) would be discarded.")
            self.ask.layout.display = "flex"
        elif names:
            self._command(self.run.start(wanted))
            self._follow(wanted)
        else:
            self._command(self.run.update(**self.run.config.in_place_diff(wanted)))
            self._shown = wanted

    def _confirm(self):
        wanted, self._asked = self._asked, None
        self.ask.layout.display = "none"
        return None if wanted is None else self.run.start(wanted)

    def _keep(self):
        self._asked = None
        self.ask.layout.display = "none"
        self._follow(self.run.config)

    def close(self) -> None:
        """Stop the refresh thread and the run; the lab's widgets leave the front end."""
        if not hasattr(self, "_thread"):        # a lab that failed half-made (ipywidgets closes it on collection)
            return super().close()
        self._stop.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.run.close()
        for widget in _descendants(self):
            if widget is not self:
                widget.close()
        super().close()


def wanted_config(live: Config, name: str, value) -> Config:
    """The settings a control asks for: a dataset brings its own settings (as in the app and the CLI,
    `make_config`), a loss the ones its paper trained with; anything else changes alone."""
    if name == "data":
        return make_config(data=value, seed=live.seed)
    if name == "loss":
        base = make_config(data=live.data, model=live.model, loss=value)
        brought = {n: getattr(base, n) for n in {**LOSS[live.loss].settings, **LOSS[value].settings}}
        return live.replace(**{**brought, "loss": value})
    return live.replace(**{name: value})


def header_html(snap: Snapshot) -> str:
    """"step 1,234 · mlp on ring · k=1 · m=256 · nonsat · 812 it/s", as the app's header reads."""
    cfg = snap.config
    text = f"<b>step {snap.step:,}</b> · {cfg.model} on {cfg.data} · k={cfg.k} · m={cfg.batch_size} · {cfg.loss}"
    if snap.ips:
        text += f" · {snap.ips:,.0f} it/s"
    if snap.state not in ("playing", "paused"):
        text += f" · {snap.state}"
    return f"<span class='ganlab-step'>{text}</span>"


def _waiting_figure():
    import plotly.graph_objects as go

    return go.Figure(layout=dict(height=560, annotations=[dict(text="press Play or Step", showarrow=False)],
                                 xaxis=dict(visible=False), yaxis=dict(visible=False)))


def _descendants(widget: w.Widget):
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)
    yield widget


@atexit.register
def _stop_labs() -> None:
    """Stop every refresh thread before the interpreter goes (before the runs' own exit hook)."""
    for one in list(_LABS):
        one._stop.set()
        one._wake.set()
