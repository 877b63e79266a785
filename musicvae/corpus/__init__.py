"""MIDI corpora: the embedded folk-tune corpus, user corpora, and the Lakh MIDI Dataset download."""
