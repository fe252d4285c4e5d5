"""The app's state per browser tab, as one typed object, and every write to it.

Rules (each browser tab is its own session, so two tabs are two independent runs):
- `st.session_state["ganlab"]` holds one `LabState`: the live `Run` (training in its own thread;
  pages draw its snapshots and send it commands), uploaded points, pinned runs, the latent
  explorer's generator. Nothing mutable is shared through caches.
- The settings widgets are keyed `cfg.<field>` (`widget_key`), so no config field can collide with
  the app's own keys (`playing`, `step`, ...). Every field that is not structural applies to the
  live run in place; a change that needs new networks waits for the user to confirm.
- The settings live in the query string (`ganlab.links`), so a link reproduces a setup.
- Pages read the state and call the functions here; only this package writes session state, and of
  it only `state.py` touches `st.session_state` (tests/test_app.py holds both).

One module per job, each named for it: `state` (the `LabState` and its accessor `get`, the widgets'
keys), `settings` (widgets <-> config, in-place changes, the link), `runs` (which run is live),
`training` (the commands: play, pause, step, slow motion), `own_data` (points and images of one's own), `pins`
(runs kept for comparison), `explorer` (the latent explorer's generator and encodings). Pages call
them through this package, as `session.step_once()`.
"""

from .explorer import (cached_encoding, current_run_view, directions_of, explorer_generator, keep_directions,
                       train_explorer_encoder)
from .own_data import IMAGES_ZIP, on_images_upload, set_points, use_drawn_points
from .pins import pin_current, rebuild_pins, unpin
from .runs import adopt, confirm_new_run, keep_current_run, new_seed_run, reset_run, start_run
from .settings import (MY_IMAGES, apply_in_place, data_choices, ensure_widget_state, on_loss_change,
                       on_preset_change, sync_link, wanted_config)
from .state import (KEY, LOSS_SHOWN, RECIPE, LabState, Pin, get, set_default, set_message, set_widgets,
                    sync_widgets_from, take_message, take_notes, widget_key)
from .training import d_score, follow_the_run, on_play_toggle, record_d_score, send, slow_step, step_once

__all__ = ["KEY", "RECIPE", "LOSS_SHOWN", "MY_IMAGES", "IMAGES_ZIP", "widget_key",
           "LabState", "Pin", "get",
           "set_widgets", "set_default", "sync_widgets_from", "ensure_widget_state", "wanted_config",
           "data_choices", "on_preset_change", "on_loss_change", "apply_in_place", "sync_link",
           "start_run", "confirm_new_run", "keep_current_run", "reset_run", "new_seed_run", "adopt",
           "send", "on_play_toggle", "follow_the_run", "step_once", "slow_step", "record_d_score", "d_score", "set_points", "on_images_upload", "use_drawn_points",
           "pin_current", "unpin", "rebuild_pins", "set_message", "take_message", "take_notes",
           "explorer_generator", "cached_encoding", "train_explorer_encoder", "current_run_view", "directions_of",
           "keep_directions"]
