"""MusicVAE domain core: corpora, codecs between notes and tensors, metrics. Imports neither Beam nor Lightning."""
