"""`musicvae studio`: a local web page to explore a trained model (interpolate, move attributes, sample, listen,
download MIDI), served by FastAPI and uvicorn from this package alone."""
