"""The MusicVAE nn.Modules, objective and schedules, against hand computation."""

import math
import re

import pytest
import torch

from lightning_modules import experiment
from lightning_modules.components import objective
from lightning_modules.components.musicvae import ModelConfig, MusicVAE, encoder_inputs
from lightning_modules.datamodule import DataRecipe
from lightning_modules.experiment import CONFIGS, MAGENTA_PARAMS, load, names


# Parameter counts of Magenta's configs (magenta/models/music_vae/configs.py), within PyTorch's second LSTM bias vector.
def tokens_for(config: ModelConfig, batch: int = 3, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randint(0, n, (batch, config.steps), generator=g) for n in config.classes], -1)


def small(name: str, **options) -> ModelConfig:
    """A config's shape (representation, decoder kind) at test size."""
    from dataclasses import replace

    return replace(load(name).model, z_size=8, enc_rnn_size=(12,), dec_rnn_size=(10, 10), **options)


@pytest.mark.parametrize("name", [n for n in names() if not n.endswith("-cpu") and n != "debug"])
def test_shapes_of_every_config(name):
    config = small(name)
    model = MusicVAE(config)
    tokens = tokens_for(config)
    logits, mu, sigma = model(tokens)
    assert [lg.shape for lg in logits] == [(3, config.steps, n) for n in config.classes]
    assert mu.shape == sigma.shape == (3, 8) and (sigma > 0).all()
    assert model.sample(2, temperature=0.5).shape == (2, config.steps, len(config.classes))
    assert model(tokens, sampling_probability=0.5)[0][0].shape == logits[0].shape


@pytest.mark.parametrize("name, magenta", MAGENTA_PARAMS.items())
def test_parameter_counts_match_magentas_configs(name, magenta):
    with torch.device("meta"):  # sizes without allocating 235 M parameters
        count = sum(p.numel() for p in MusicVAE(load(name).model).parameters())
    assert abs(count - magenta) / magenta < 0.01


def test_overrides_merge_over_the_named_config_key_by_key():
    merged = load("debug", {"model": {"z_size": 4}, "training": {"free_bits": 48}})
    base = load("debug")
    assert merged.model.z_size == 4 and merged.training.free_bits == 48
    assert merged.model.dec_rnn_size == base.model.dec_rnn_size and merged.training.max_beta == base.training.max_beta


def test_a_config_states_only_what_differs_from_its_base():
    cpu, b64 = load("hierdec-mel_16bar-cpu"), load("hierdec-mel_16bar-b64-cpu")
    assert (b64.batch_size, b64.training.learning_rate) == (64, 0.003) != (cpu.batch_size, cpu.training.learning_rate)
    assert b64.model == cpu.model and b64.training.free_bits == cpu.training.free_bits == 256
    # what a -cpu config does not restate is Magenta's: its base's decoder and KL schedule
    small, magenta = load("cat-mel_2bar_small-cpu"), load("cat-mel_2bar_small")
    assert small.model.dec_rnn_size == magenta.model.dec_rnn_size and small.model.z_size == 128 != magenta.model.z_size
    assert small.training.max_beta == magenta.training.max_beta and small.data == magenta.data


def test_every_cpu_config_names_its_base_and_the_study_recipes_are_named_configs():
    for name in names():
        text = (CONFIGS / f"{name}.yaml").read_text()
        assert ("base: " in text) == name.endswith("-cpu"), name
    assert load("cat-mel_2bar_small-tf-recipe-cpu").data == DataRecipe(transpose=(-5, 5), resample=True)
    assert load("cat-mel_2bar_small-tf-cpu").data == DataRecipe(transpose=None, resample=False)
    assert load("hierdec-mel_16bar-ar-b64-cpu").model.conductor_input == "autoregressive"


@pytest.mark.parametrize(
    "files, refused",
    [
        ({"a": "base: b", "b": "base: a"}, "config a: its bases loop back to a"),
        ({"a": "base: gone"}, "no experiment config 'gone'"),
        (
            {"a": "representation: mel_2bar\nbatch_size: 8\nmodel: {z_size: 8, enc_rnn_size: [8]}"},
            "config a: no model.dec_rnn_size, in the file or its bases",  # not the paper's 1024 x 2 in silence
        ),
    ],
)
def test_a_broken_config_chain_is_refused_by_name(files, refused, tmp_path, monkeypatch):
    for name, text in files.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    monkeypatch.setattr(experiment, "CONFIGS", tmp_path)
    with pytest.raises(ValueError, match=re.escape(refused)):
        load("a")


def test_initial_sigma_is_softplus_of_zero():
    config = small("hierdec-mel_16bar")
    _, _, sigma = MusicVAE(config).encode(tokens_for(config))
    assert torch.allclose(sigma, torch.full_like(sigma, math.log(2)), atol=0.01)


def test_drum_inputs_are_the_10_dim_roll():
    config = small("cat-drums_2bar_small")
    tokens = torch.tensor([[[0], [1], [0b100000101], [511]]])
    roll = encoder_inputs(tokens, config)[0]
    assert roll.shape == (4, 10)
    assert roll[0].tolist() == [0] * 9 + [1]  # nothing hit
    assert roll[1].tolist() == [1] + [0] * 9
    assert roll[2].tolist() == [1, 0, 1, 0, 0, 0, 0, 0, 1, 0]
    assert roll[3].tolist() == [1] * 9 + [0]


@pytest.mark.parametrize("name", ["hierdec-mel_16bar", "hierdec-trio_16bar"])
def test_bars_in_one_batched_call_equal_the_per_bar_loop(name):
    model = MusicVAE(small(name))
    tokens = tokens_for(model.config)
    z, _, _ = model.encode(tokens)
    batched = model.decode_teacher_forced(z, tokens, bars_parallel=True)
    looped = model.decode_teacher_forced(z, tokens, bars_parallel=False)
    for a, b in zip(batched, looped):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "name, conductor_input",
    [
        ("hierdec-mel_16bar", "none"),
        ("flat-mel_16bar", "none"),
        ("hierdec-trio_16bar", "none"),
        ("hierdec-mel_16bar", "z"),
        ("hierdec-mel_16bar", "autoregressive"),
        ("hierdec-trio_16bar", "autoregressive"),
    ],
)
def test_sampling_with_the_ground_truth_equals_teacher_forcing(name, conductor_input):
    """The step-by-step decoder, fed the ground truth, must reproduce the teacher-forced logits (bars start from
    the previous bar's last token; each bar restarts from its embedding; the autoregressive conductor reads the
    previous bar's final state)."""
    model = MusicVAE(small(name, conductor_input=conductor_input, state_init="pytorch"))
    tokens = tokens_for(model.config)
    z, _, _ = model.encode(tokens)
    _, stepped = model.decode_sampled(z, 1.0, tokens, sampling_probability=0.0)
    for a, b in zip(stepped, model.decode_teacher_forced(z, tokens)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_the_autoregressive_conductor_reads_the_previous_bars_notes():
    """Magenta's disable_autoregression=False: changing bar 1 changes bar 2's logits only under that option."""
    for conductor_input, moves in (("none", False), ("autoregressive", True)):
        torch.manual_seed(0)
        model = MusicVAE(small("hierdec-mel_16bar", conductor_input=conductor_input, state_init="pytorch"))
        tokens = tokens_for(model.config)
        changed = tokens.clone()
        changed[:, 3] = (changed[:, 3] + 1) % 90  # a step inside the first bar, not its last
        z = torch.randn(len(tokens), model.config.z_size)
        before, after = (model.decode_teacher_forced(z, t)[0][:, 16:32] for t in (tokens, changed))
        assert (not torch.allclose(before, after)) == moves


@pytest.mark.parametrize("key", ["conductor_input", "state_init", "head_init"])
def test_unknown_model_options_are_refused_by_name(key):
    with pytest.raises(ValueError, match=key):
        small("hierdec-mel_16bar", **{key: "sideways"})


def test_pytorch_initialisation_makes_zs_path_stronger():
    """Magenta's N(0, 1e-3) state projections leave the conductor's output near zero at initialisation."""
    torch.manual_seed(0)
    scales = {}
    for init in ("magenta", "pytorch"):
        model = MusicVAE(small("hierdec-mel_16bar", state_init=init))
        with torch.no_grad():
            scales[init] = float(model.conduct(torch.randn(4, model.config.z_size)).abs().mean())
    assert scales["pytorch"] > 10 * scales["magenta"]


def test_free_bits_apply_to_each_examples_total_kl():
    mu = torch.tensor([[3.0, 0.0], [0.1, 0.0]])
    sigma = torch.ones(2, 2)
    kl = objective.kl_divergence(mu, sigma)
    assert torch.allclose(kl, torch.tensor([4.5, 0.005]))
    logits = [torch.zeros(2, 4, 3)]
    tokens = torch.zeros(2, 4, 1, dtype=torch.long)
    out = objective.elbo_loss(logits, tokens, mu, sigma, beta=0.5, free_bits=2)
    free_nats = 2 * math.log(2)
    assert math.isclose(out["r_loss"].item(), 4 * math.log(3), rel_tol=1e-6)  # summed over steps
    assert math.isclose(out["kl_loss"].item(), (4.5 - free_nats) / 2, rel_tol=1e-6)  # the second example is free
    assert math.isclose(out["loss"].item(), 4 * math.log(3) + 0.5 * (4.5 - free_nats) / 2, rel_tol=1e-6)
    assert math.isclose(out["kl_bits"].item(), (4.5 + 0.005) / 2 / math.log(2), rel_tol=1e-6)


def test_schedules_against_hand_computation():
    assert objective.beta(0, 0.2, 0.0) == 0 and objective.beta(1, 0.2, 0.0) == 0.2
    assert math.isclose(objective.beta(100_000, 0.2, 0.99999), 0.2 * (1 - 0.99999**100_000))
    assert math.isclose(objective.learning_rate(10_000, 1e-3, 1e-5, 0.9999), 3.73e-4, rel_tol=0.01)
    assert math.isclose(objective.learning_rate(0, 1e-3, 1e-5, 0.9999), 1e-3)
    assert objective.sampling_probability(5, "constant", 0.3) == 0.3
    assert math.isclose(objective.sampling_probability(2, "exponential", 0.5), 0.75)
    assert math.isclose(objective.sampling_probability(0, "inverse_sigmoid", 1000), 1 - 1000 / 1001)
    assert math.isclose(objective.sampling_probability(6908, "inverse_sigmoid", 1000), 0.5, abs_tol=1e-3)
    assert objective.sampling_probability(10**9, "inverse_sigmoid", 1000) == 1.0
    with pytest.raises(ValueError, match="unknown sampling schedule"):
        objective.sampling_probability(1, "linear", 1)


def test_accuracy_counts_every_part():
    logits = [torch.tensor([[[0.0, 1.0], [1.0, 0.0]]]), torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])]
    tokens = torch.tensor([[[1, 0], [1, 0]]])
    assert objective.accuracy(logits, tokens).tolist() == [[1.0, 0.5]]


@pytest.mark.parametrize("name", ["cat-mel_2bar_small", "hierdec-trio_16bar"])
def test_word_dropout_hides_the_previous_tokens_in_training_only(name):
    torch.manual_seed(0)
    model = MusicVAE(small(name, word_dropout=1.0))
    z = torch.randn(3, 8)
    one, other = tokens_for(model.config, seed=1), tokens_for(model.config, seed=2)
    hidden = [torch.cat(model.decode_teacher_forced(z, t), -1) for t in (one, other)]
    assert torch.equal(*hidden)  # every input hidden: the decoder sees z alone
    model.eval()
    seen = [torch.cat(model.decode_teacher_forced(z, t), -1) for t in (one, other)]
    assert not torch.allclose(*seen)
