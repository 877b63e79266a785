"""The `musicvae` command on the session's learned model: what it writes is music, and what it warns of."""

from tests.support.cli import invoke
from tests.support.midi_files import note_count


def test_sample_writes_the_same_music_from_a_checkpoint_or_an_mlflow_run(learned, tmp_path):
    """The session's learned model, whose samples hold notes: equal files are equal music, not equal silence."""
    result = invoke(
        "sample",
        "--n",
        2,
        "--temperature",
        0.5,
        "--out",
        tmp_path / "a",
        "--checkpoint",
        learned["learned"] / "best.ckpt",
    )
    by_run = invoke(
        "sample",
        "--n",
        2,
        "--temperature",
        0.5,
        "--out",
        tmp_path / "b",
        "--run-id",
        learned["run_id"],
        "--tracking-uri",
        learned["uri"],
    )
    names = ("sample_00.mid", "sample_01.mid")
    assert result.exit_code == by_run.exit_code == 0, result.output + by_run.output
    assert any(note_count(tmp_path / "a" / name) for name in names)
    for name in names:  # the same seed and weights: the same music
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_run_id_that_is_not_there_is_named_first(learned, tmp_path):
    unknown = invoke("sample", "--run-id", "0123abcd", "--tracking-uri", learned["uri"], "--out", tmp_path)
    assert unknown.exit_code == 1 and unknown.stderr.startswith("error: --run-id 0123abcd: no such run in the MLflow")
    assert "[no_such_run]" in unknown.stderr and "Traceback" not in unknown.output


def test_values_that_make_noise_are_warned_of(learned, tmp_path):
    checkpoint = learned["learned"] / "best.ckpt"
    hot = invoke("sample", "--n", 1, "--temperature", "1e9", "--out", tmp_path / "hot", "--checkpoint", checkpoint)
    assert "warning: --temperature 1e9: at temperature 1e+09 every note is about equally likely" in hot.stderr
    mild = invoke("sample", "--n", 1, "--temperature", "0.5", "--out", tmp_path / "mild", "--checkpoint", checkpoint)
    assert mild.exit_code == 0 and "warning" not in mild.stderr
