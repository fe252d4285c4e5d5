from ganlab.ui.studies_page import render

render()
