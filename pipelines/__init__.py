"""Apache Beam pipelines: a MIDI corpus to bar-sliced tensor shards and a data report."""
