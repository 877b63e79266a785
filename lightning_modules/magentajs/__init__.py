"""Magenta's own MusicVAE checkpoints for magenta.js (@magenta/music): a folder with `config.json` (the data
converter spec) and `weights_manifest.json` with its binary weight groups, under the TensorFlow variable names of
Magenta's lstm_models.py. `export` writes a trained model as one; `load` reads one (quantized or not) into this
project's model."""
