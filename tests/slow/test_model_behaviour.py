"""What MusicVAE exists to do, shown on the session's `learned` model (tests/memorising.py: 64 two-bar training
windows memorised in under a minute): reconstructions start their windows' notes, samples hold notes as the
data does, a latent interpolation runs from A to B, and an attribute vector of the data's own size moves its
attribute both ways. Each check also runs on collapsed models, where it must fail, so that it can fail: the same
model stopped at its majority-class baseline, the learned model with its decoder cut off from z (posterior collapse
made exact), and the model at initialisation."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import symusic
import torch
import yaml

from lightning_modules import evaluate, generation
from lightning_modules.attribute_effects import VECTORS, attribute_effects
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import read_tokens
from lightning_modules.settings import eval_settings
from musicvae import windows
from musicvae.attributes import FIRST_PITCH_TOKEN, note_density
from musicvae.extract import Representation
from musicvae.latent import apply_attribute, attribute_vector, interpolation_path
from musicvae.temperature import GREEDY
from tests.support import PARAMS
from tests.support.cli import assert_nothing_silent_succeeds, invoke

EVAL = eval_settings(yaml.safe_load(PARAMS.read_text())["eval"])
COLLAPSED = ("baseline", "cut off from z", "at initialisation")
MEMORISED = 0.9  # token accuracy, or share of notes, that shows a memorised window
MOVE = 0.25  # an attribute's move, in units of its spread over the windows, that shows a vector works


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """The models here are tiny: one thread runs them fastest, and on a busy machine more wait on each other (one
    `musicvae reconstruct` took 1-3 s on two threads, 0.06 s on one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def cut_off_from_z(model: MusicVAE) -> None:
    """The flat decoder's weights that read z (its initial state, and z's share of its input at every step) zeroed,
    so that every code decodes alike. The encoder, and so the latent space, is the learned one."""
    decoder = model.decoders[0]
    decoder.initial_state.dense.weight.zero_()
    decoder.rnn.weight_ih_l0[:, -model.config.z_size :] = 0


def initialised(model: MusicVAE) -> None:
    """The weights a fresh model of the same config starts from (seeded)."""
    torch.manual_seed(0)
    model.load_state_dict(MusicVAE(model.config).state_dict())


def rewritten(checkpoint: Path, change, out: Path) -> Path:
    """A copy of a checkpoint whose model `change` alters in place."""
    saved = torch.load(checkpoint, weights_only=True)
    model = generation.load(checkpoint).model
    with torch.no_grad():
        change(model)
    saved["state_dict"] = {f"model.{k}": v for k, v in model.state_dict().items()}
    del saved["learning"]  # the learning monitor's verdict on the learned model, not on this one
    torch.save(saved, out)
    return out


@pytest.fixture(scope="module")
def checkpoints(learned, tmp_path_factory) -> dict[str, Path]:
    """The learned model and the collapsed ones, as checkpoints the `musicvae` command takes."""
    folder = tmp_path_factory.mktemp("collapsed")
    source = learned["learned"] / "best.ckpt"
    return {
        "learned": source,
        "baseline": learned["baseline"] / "best.ckpt",
        "cut off from z": rewritten(source, cut_off_from_z, folder / "cut_off.ckpt"),
        "at initialisation": rewritten(source, initialised, folder / "initialised.ckpt"),
    }


@pytest.fixture(scope="module")
def models(checkpoints) -> dict[str, MusicVAE]:
    return {name: generation.load(path).model for name, path in checkpoints.items()}


@pytest.fixture(scope="module")
def memorised(learned) -> torch.Tensor:
    """The windows the learned model trained on, [64, 32, 1]."""
    return read_tokens(learned["shards"], "train").long()


def onsets(tokens: torch.Tensor) -> torch.Tensor:
    return tokens[..., 0] >= FIRST_PITCH_TOKEN  # a melody class from FIRST_PITCH_TOKEN on starts a note


def notes_recalled(model: MusicVAE, tokens: torch.Tensor) -> float:
    """Share of the windows' notes (pitch and onset step) that their greedy reconstructions, decoded from the
    encoder means as `musicvae reconstruct` does, start too."""
    decoded = generation.decode(model, generation.encode(model, tokens)[1], GREEDY)
    notes = onsets(tokens)
    return float((notes & (decoded[..., 0] == tokens[..., 0])).sum() / notes.sum())


def test_greedy_reconstructions_start_their_windows_notes(models, memorised):
    recalled = {name: notes_recalled(model, memorised) for name, model in models.items()}
    assert recalled["learned"] >= MEMORISED, recalled
    assert all(recalled[name] < MEMORISED for name in COLLAPSED), recalled


def notes_in(path: Path) -> int:
    return sum(len(track.notes) for track in symusic.Score.from_file(str(path)).tracks)


def notes_like_the_data(counts: torch.Tensor, tokens: torch.Tensor) -> bool:
    """Whether a two-sample Kolmogorov-Smirnov test at 5 % cannot tell the note counts of samples from those of the
    windows: neither silence (a decoder stuck on the commonest classes, hold and rest) nor noise (a note nearly every
    step, as an untrained decoder writes) passes."""
    data = onsets(tokens).sum(-1)
    values = torch.arange(tokens.shape[1] + 1)

    def cdf(x):
        return (x[:, None] <= values).float().mean(0)

    n, m = len(counts), len(data)
    return float((cdf(counts) - cdf(data)).abs().max()) <= 1.36 * ((n + m) / (n * m)) ** 0.5


def test_musicvae_sample_writes_notes_as_the_data_has(checkpoints, memorised, tmp_path):
    """32 samples from the prior at Magenta's temperature, notes counted in the MIDI files written. A decoder cut off
    from z still writes melodies (it is a language model of the windows), so it is not one that must fail here."""
    counts = {}
    for name in ("learned", "baseline", "at initialisation"):
        out = tmp_path / name.replace(" ", "_")
        result = invoke(
            "sample",
            "--n",
            32,
            "--temperature",
            EVAL.samples.temperature,
            "--out",
            out,
            "--checkpoint",
            checkpoints[name],
        )
        written = sorted(out.glob("sample_*.mid"))
        assert len(written) == 32, result.output
        assert_nothing_silent_succeeds(result.exit_code, result.stderr, *written)
        counts[name] = torch.tensor([notes_in(p) for p in written])
    assert notes_like_the_data(counts["learned"], memorised), counts
    assert not notes_like_the_data(counts["baseline"], memorised), counts
    assert not notes_like_the_data(counts["at initialisation"], memorised), counts


def interpolation_accuracy(model: MusicVAE, tokens: torch.Tensor) -> dict[str, float]:
    """Slerp between the encoder means of window pairs (0, 1), (2, 3), ... as `musicvae interpolate` does, decoded
    greedily at t = 0, ½, 1: mean token accuracy of the start against A and of the end against B, and of the
    midpoint against the nearer of the two."""
    a, b = tokens[0::2], tokens[1::2]
    mu = generation.encode(model, tokens)[1]
    path = interpolation_path(mu[0::2], mu[1::2], 3)  # [3, pairs, Z]
    decoded = generation.decode(model, path.flatten(0, 1), GREEDY).view(3, *a.shape)

    def accuracy(x, y):
        return (x == y).float().mean((1, 2))  # per pair

    nearer = torch.maximum(accuracy(decoded[1], a), accuracy(decoded[1], b))
    return {
        "A": float(accuracy(decoded[0], a).mean()),
        "B": float(accuracy(decoded[2], b).mean()),
        "midpoint": float(nearer.mean()),
    }


def runs_from_a_to_b(accuracy: dict[str, float]) -> bool:
    """The ends decode to A and B, and the midpoint to neither: the path moves through the latent space rather than
    jumping from A to B (as a decoder that only recalls its training windows would)."""
    return accuracy["A"] >= MEMORISED and accuracy["B"] >= MEMORISED and accuracy["midpoint"] < MEMORISED


def test_latent_interpolation_runs_from_a_to_b(models, memorised):
    measured = {name: interpolation_accuracy(model, memorised) for name, model in models.items()}
    assert runs_from_a_to_b(measured["learned"]), measured
    assert not any(runs_from_a_to_b(measured[name]) for name in COLLAPSED), measured


def test_the_evaluate_stage_reports_the_latent_path_from_a_to_b(models, memorised):
    """Its Hamming curve (distance to A along the path, over seeded pairs) starts at A and ends as far from A as B
    is: the data-space path's last point, which is B itself."""

    def from_a_to_b(model):
        _, curve, _, _ = evaluate.interpolation(model, memorised, generation.encode(model, memorised)[1], EVAL)
        start, end = curve[0], curve[-1]
        return (
            start["latent_hamming"] <= 1 - MEMORISED
            and abs(end["latent_hamming"] - end["data_hamming"]) <= 1 - MEMORISED
        )

    assert from_a_to_b(models["learned"])
    assert not any(from_a_to_b(models[name]) for name in COLLAPSED)


def density_moves(model: MusicVAE, tokens: torch.Tensor) -> dict[str, float]:
    """The windows' note-density vector (the mean code of its top quartile minus that of its bottom one, as the
    evaluate stage makes it) subtracted from and added to their codes at the evaluate stage's amount: the change of
    mean note density in the greedy decodings from the unmoved ones', in units of density's spread over the windows."""
    mu = generation.encode(model, tokens)[1]
    density = note_density(tokens[..., 0].numpy())
    vector = attribute_vector(mu, density, EVAL.attributes.quantile)
    amount = EVAL.attributes.amount
    codes = apply_attribute(mu, vector, torch.tensor([-amount, 0.0, amount]))  # [3, N, Z]
    decoded = generation.decode(model, codes.flatten(0, 1), GREEDY).view(3, *tokens.shape)
    mean = note_density(decoded[..., 0].numpy()).mean(-1) / density.std()
    return {"subtracted": float(mean[0] - mean[1]), "added": float(mean[2] - mean[1])}


def moves_both_ways(moved: dict[str, float]) -> bool:
    return moved["added"] >= MOVE and moved["subtracted"] <= -MOVE


def test_an_attribute_vector_moves_its_attribute_both_ways(models, memorised):
    moved = {name: density_moves(model, memorised) for name, model in models.items()}
    assert moves_both_ways(moved["learned"]), moved
    assert not any(moves_both_ways(moved[name]) for name in COLLAPSED), moved


def source_windows(
    shards: Path, shared_midi: Path, rep: Representation, tokens: torch.Tensor, count: int
) -> list[tuple[Path, int]]:
    """The first `count` memorised windows as `musicvae` takes them: their source file and --window number."""
    (train,) = shards.glob("train-*.parquet")
    rows = pq.read_table(train, columns=["source", "piece", "start_bar"]).slice(0, count).to_pylist()
    found = []
    for row, melody in zip(rows, tokens[:, :, 0].numpy()):
        path = shared_midi / row["source"]
        listed = windows.of_file(path, rep).windows
        found.append(
            (
                path,
                next(
                    i
                    for i, w in enumerate(listed)
                    if (w.piece, w.start_bar) == (row["piece"], row["start_bar"]) and (w.tokens == melody).all()
                ),
            )
        )
    return found


def test_musicvae_attribute_moves_note_density_and_at_zero_reconstructs(
    learned, checkpoints, models, memorised, shared_midi, tmp_path
):
    """Vectors written by the evaluate stage's attribute_effects, applied by the command to 8 memorised windows read
    from their source files: notes counted in the MIDI files written."""
    model = models["learned"]
    effects = attribute_effects(model, memorised, memorised, generation.encode(model, memorised)[1], EVAL, tmp_path)
    assert effects["effect"]["note_density"]["note_density"] >= MOVE, effects["effect"]["note_density"]
    rep = generation.load(checkpoints["learned"]).representation
    sources = source_windows(learned["shards"], shared_midi, rep, memorised, 8)

    def written(name: str, label: str, command: str, *options) -> list[Path]:
        files = []
        for k, (path, window) in enumerate(sources):
            out = tmp_path / name.replace(" ", "_") / label / f"{k}.mid"
            result = invoke(
                command, path, "--window", window, "--out", out, "--checkpoint", checkpoints[name], *options
            )
            assert_nothing_silent_succeeds(result.exit_code, result.stderr, out)
            files.append(out)
        return files

    def moved(name: str) -> dict[str, list[Path]]:
        amount = EVAL.attributes.amount
        return {
            way: written(
                name,
                way,
                "attribute",
                "--vector",
                "note_density",
                "--amount",
                sign * amount,
                "--vectors",
                tmp_path / VECTORS,
            )
            for way, sign in (("subtracted", -1), ("unmoved", 0), ("added", 1))
        }

    def notes(files: dict[str, list[Path]]) -> dict[str, int]:
        return {way: sum(map(notes_in, paths)) for way, paths in files.items()}

    found = moved("learned")
    again = written("learned", "reconstructed", "reconstruct")
    assert [p.read_bytes() for p in found["unmoved"]] == [p.read_bytes() for p in again]
    counted = notes(found)
    assert counted["subtracted"] < counted["unmoved"] < counted["added"], counted
    # The same vectors fit the decoder cut off from z (its encoder, so its latent space, is the learned one's).
    cut_off = notes(moved("cut off from z"))
    assert cut_off["subtracted"] == cut_off["unmoved"] == cut_off["added"], cut_off
