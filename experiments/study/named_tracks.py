"""The tracks of each MIDI file that bear a given name, written as files of their own: POP909's sung melody (its
MELODY track) apart from the BRIDGE and PIANO tracks that Magenta's melody extractor takes too, for scoring a model
on the melody alone (docs/results.md).

    python -m experiments.study.named_tracks ../shared/midi_dev/pop909 /tmp/pop909_melody --name MELODY
"""

from __future__ import annotations

import argparse
from pathlib import Path

import symusic

from musicvae.midi import midi_files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a folder or glob of MIDI files")
    parser.add_argument("out", type=Path)
    parser.add_argument("--name", required=True, help="the track name to keep, in any case")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in midi_files(args.source):
        score = symusic.Score(path)
        kept = [t for t in score.tracks if t.name.strip().upper() == args.name.upper()]
        if kept:
            score.tracks.clear()
            score.tracks.extend(kept)
            score.dump_midi(args.out / Path(path).name)
            written += 1
    print(f"{written} files with a {args.name} track -> {args.out}")


if __name__ == "__main__":
    main()
