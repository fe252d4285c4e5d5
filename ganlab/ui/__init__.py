"""The Streamlit pages. The only part of ganlab that imports Streamlit; the app's `app.py` routes here."""
