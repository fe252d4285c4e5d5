"""The Studies page: open a study (a file in studies/ or a storage URL), see its trials as a table,
parallel coordinates, a heatmap over two settings and the spread per loss, and open any trial's
checkpoint as the live run of the Train page or in the latent explorer. It refreshes while a study
runs (a fragment with `run_every`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ..errors import GanlabError
from ..study import figures, studies_dir, summary
from ..study.report import study_names
from ..trainer import Trainer
from . import session

REFRESH_S = 3
PAGES = {"train": "app_pages/train.py", "latent": "app_pages/latent.py"}


def render() -> None:
    session.get()
    st.title("Studies")
    st.caption("Many trainings over a space of settings (`python -m ganlab study run`): which settings work, and "
               "how much of a result is the setting and how much is luck.")
    url = _pick_storage()
    if not url:
        return
    try:
        names = study_names(url)
    except GanlabError as exc:
        st.error(str(exc))
        return
    if not names:
        st.info("No study there yet.")
        return
    name = st.selectbox("Study", names, key="studies_name")
    live = st.toggle("Refresh while it runs", key="studies_live", value=False,
                     help=f"re-reads the study every {REFRESH_S} s")
    st.fragment(run_every=REFRESH_S if live else None)(_view)(name, url)


def _pick_storage() -> str | None:
    folder = studies_dir()
    files = sorted(folder.glob("*.db")) if folder.is_dir() else []
    where = st.radio("Open", ["A file in studies/", "A storage URL"], key="studies_source", horizontal=True)
    if where == "A storage URL":
        return st.text_input("SQLAlchemy URL", key="studies_url",
                             placeholder="postgresql+psycopg://user:password@host/db") or None
    if not files:
        st.info(f"No study files in {folder}/ yet: `python -m ganlab study run NAME --data ring --trials 20 "
                "--steps 1500 --space \"k=1..5 loss=nonsat|hinge\"` makes one.")
        return None
    path = st.selectbox("Study file", files, key="studies_file", format_func=lambda p: p.name)
    return f"sqlite:///{path}"


def _view(name: str, url: str) -> None:
    try:
        report = summary(name, url)
    except GanlabError as exc:
        st.error(str(exc))
        return
    metric, rows = report.get("metric", "value"), report["trials"]
    settings = list(report["spread"])
    states = ", ".join(f"{n} {s.lower()}" for s, n in sorted(report["states"].items()))
    st.markdown(f"**{name}**: {report.get('data')} · {report.get('steps')} iterations a trial · "
                f"`{report.get('space')}` · metric **{metric}** ({report['direction']}) · {states}")
    shown = [{k: r.get(k) for k in ["number", "state", *settings, "value", "seconds", "worker"]} for r in rows]
    st.dataframe(shown, key="studies_table", hide_index=True, height=min(400, 40 + 35 * len(rows)))
    done = figures.finished(rows)
    if not done:
        st.info("No finished trial yet.")
        return
    st.plotly_chart(figures.parallel(rows, settings, metric), key="studies_parallel")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Metric over two settings** (median per cell)")
        if len(settings) >= 2:
            x = st.selectbox("x", settings, index=0, key="studies_x")
            y = st.selectbox("y", settings, index=1, key="studies_y")
            st.plotly_chart(figures.heatmap(rows, x, y, metric), key="studies_heatmap")
        else:
            st.caption("the study searches one setting")
    with c2:
        st.markdown("**Spread per value**")
        default = settings.index("loss") if "loss" in settings else 0
        by = st.selectbox("of", settings, index=default, key="studies_by")
        st.plotly_chart(figures.spread(rows, by, metric), key="studies_box")
    _open_trial(report, done, metric)


def _open_trial(report: dict, done: list[dict], metric: str) -> None:
    st.markdown("**Open a trial**")
    best_first = sorted(done, key=lambda r: r["value"], reverse=report["direction"] == "maximize")
    pick = st.selectbox("Trial", [r["number"] for r in best_first], key="studies_trial",
                        format_func=lambda n: _label(n, done, metric))
    row = next(r for r in done if r["number"] == pick)
    path = Path(row["checkpoint"] or "")
    if not path.is_file():
        st.warning(f"its checkpoint {path} is not on this machine (trials keep theirs where they ran)")
        return
    c1, c2, c3 = st.columns(3)
    # Buttons, not callbacks: Streamlit switches pages from the script, not from a callback. The Train
    # page's widgets are not on this page, so adopting the run here sets them before they are drawn.
    if c1.button("Open in the Train page", key="studies_open_train"):
        _open(path, "train")
    if c2.button("Open in the latent explorer", key="studies_open_latent"):
        _open(path, "latent")
    c3.download_button("Download checkpoint", data=path.read_bytes, file_name=path.name, key="studies_download",
                       on_click="ignore")
    st.caption(f"checkpoint: `{path}`")
    message = session.take_message()
    if message:
        (st.success if message[0] == "success" else st.error)(message[1])


def _label(number: int, done: list[dict], metric: str) -> str:
    row = next(r for r in done if r["number"] == number)
    return f"trial {number}: {metric} {row['value']:.4g}"


def _open(path: Path, page: str) -> None:
    """Make the trial's checkpoint the live run (as loading it on the Train page does), then go there."""
    try:
        trainer = Trainer.load(path, device="auto")
    except GanlabError as exc:
        session.set_message("error", str(exc))
        return
    session.adopt(trainer)
    session.set_message("success", f"opened {path.name}: step {trainer.step_count}")
    st.switch_page(PAGES[page])
