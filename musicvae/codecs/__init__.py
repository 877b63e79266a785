"""Codecs between quantized notes and MusicVAE tensors, with Magenta's extraction semantics."""
