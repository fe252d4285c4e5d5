"""ganlab's app: `streamlit run app.py`. A router only; the pages live in ganlab/ui."""

import streamlit as st

st.set_page_config(page_title="ganlab", page_icon="🎲", layout="wide")
st.navigation([
    st.Page("app_pages/train.py", title="Train", icon=":material/play_circle:", default=True),
    st.Page("app_pages/latent.py", title="Latent explorer", icon=":material/route:"),
    st.Page("app_pages/studies.py", title="Studies", icon=":material/query_stats:"),
]).run()
