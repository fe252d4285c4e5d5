from ganlab.ui.latent_page import render

render()
