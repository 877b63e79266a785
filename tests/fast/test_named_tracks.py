"""The study's melody-track sets: POP909's MELODY track alone, from real POP909 files."""

import symusic

from experiments.study import named_tracks


def test_only_the_named_track_is_written_and_files_without_it_are_skipped(shared_midi, tmp_path):
    songs = sorted((shared_midi / "pop909").rglob("*.mid"))[:3]
    lakh = sorted((shared_midi / "lakh").rglob("*.mid"))[:1]  # no track named MELODY
    for path in songs + lakh:
        (tmp_path / "in" / path.name).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / path.name).write_bytes(path.read_bytes())
    named_tracks.main([str(tmp_path / "in"), str(tmp_path / "out"), "--name", "melody"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in songs)
    for path in songs:
        whole, melody = symusic.Score(path), symusic.Score(tmp_path / "out" / path.name)
        (sung,) = [t for t in whole.tracks if t.name == "MELODY"]
        assert [t.name for t in melody.tracks] == ["MELODY"] and len(whole.tracks) == 3
        assert [(n.time, n.duration, n.pitch) for n in melody.tracks[0].notes] == [
            (n.time, n.duration, n.pitch) for n in sung.notes
        ]
