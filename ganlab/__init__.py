"""ganlab: an interactive lab for Generative Adversarial Nets (Goodfellow et al., 2014).

>>> from ganlab import Trainer, make_config
>>> trainer = Trainer(make_config(data="ring", seed=0), device="cpu")
>>> trainer.step(5)["step"]
5
"""

from .checkpoint import load_checkpoint
from .config import Config, make_config
from .data import load_dataset
from .errors import CheckpointError, ConfigError, DataError, DivergenceError, GanlabError
from .models import build_models
from .trainer import HISTORY_KEYS, Trainer

__version__ = "0.1.0"

# The notebook widgets, imported when first asked for, so `import ganlab` never imports ipywidgets.
_WIDGETS = {"lab": ".ui.lab", "explore": ".ui.explore"}


def __getattr__(name: str):
    """`ganlab.lab(**settings)`: a live run as a notebook widget; `ganlab.explore(checkpoint_or_run)`:
    the latent explorer as one (`pip install -r requirements-jupyter.txt`)."""
    if name in _WIDGETS:
        from importlib import import_module

        return getattr(import_module(_WIDGETS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Config", "make_config", "Trainer", "HISTORY_KEYS", "build_models", "load_dataset",
           "load_checkpoint", "GanlabError", "ConfigError", "DataError", "CheckpointError",
           "DivergenceError", "__version__"]
