from ganlab.ui.train_page import render

render()
