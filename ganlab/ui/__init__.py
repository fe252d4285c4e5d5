"""The front ends inside the package: the Streamlit pages (`app.py` routes here) and the notebook
widgets (`lab.py`, `explore.py`). The only part of ganlab that imports Streamlit or ipywidgets."""
