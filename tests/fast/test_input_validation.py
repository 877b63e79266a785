"""Inputs that used to give wrong results or a traceback: temperatures, attribute vectors of another model, and
mistyped config overrides are refused with the reason."""

import math

import pytest
import torch
import yaml
from safetensors.torch import save_file

from lightning_modules import evaluate, generation
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.experiment import load
from musicvae.extract import REPRESENTATIONS, extract
from musicvae.temperature import GREEDY, check_temperature
from tests.support.beam_runs import PARAMS
from tests.support.cli import invoke


@pytest.fixture(scope="module")
def tune(shared_midi):
    return next(p for p in sorted(shared_midi.glob("pop909/*.mid")) if extract(p, REPRESENTATIONS["mel_16bar"]).windows)


@pytest.mark.parametrize("temperature", [0, 0.0, -0.5, math.nan, math.inf, "hot", None, True])
def test_a_temperature_is_a_number_above_zero_or_greedy_by_name(temperature):
    with pytest.raises(ValueError, match="above 0.*or 'greedy'"):
        check_temperature(temperature)
    model = MusicVAE(load("debug").model)
    with pytest.raises(ValueError, match="above 0"):
        model.sample(2, temperature)  # before: 0 crashed inside multinomial, -0.5 silently inverted the softmax


def test_greedy_and_a_positive_temperature_decode():
    model = MusicVAE(load("debug").model).eval()
    z = torch.randn(2, model.config.z_size)
    greedy = model.decode_sampled(z, GREEDY)[0]
    assert torch.equal(greedy, model.decode_sampled(z, "greedy")[0])  # argmax: the same every time
    assert model.decode_sampled(z, 0.5)[0].shape == greedy.shape
    assert check_temperature("0.5") == 0.5  # as the command line gives it


def test_the_commands_refuse_a_bad_temperature_and_take_greedy_by_name(trained, tune, tmp_path):
    common = ["--window", 0, "--checkpoint", trained["models"] / "best.ckpt"]
    for bad in ("0", "-1", "warm"):
        refused = invoke("reconstruct", tune, "--temperature", bad, "--out", tmp_path / "r.mid", *common)
        assert refused.exit_code == 1 and "[bad_temperature]" in refused.stderr and "greedy" in refused.stderr
        assert not (tmp_path / "r.mid").exists()
    for given in ("greedy", "0.7"):
        ran = invoke("reconstruct", tune, "--temperature", given, "--out", tmp_path / f"{given}.mid", *common)
        assert (tmp_path / f"{given}.mid").is_file(), ran.output
    sampled = invoke("sample", "--n", 1, "--temperature", "0", "--out", tmp_path / "s", *common[2:])
    assert sampled.exit_code == 1 and "[bad_temperature]" in sampled.stderr


@pytest.mark.parametrize("key", ["temperature", "samples.temperature"])
def test_the_evaluate_stage_refuses_a_bad_temperature_by_its_param(key, tmp_path):
    params = yaml.safe_load(PARAMS.read_text())
    node, leaf = (params["eval"]["samples"], "temperature") if "." in key else (params["eval"], key)
    node[leaf] = 0
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(SystemExit, match=f"eval.{key}: temperature 0: a temperature must be"):
        evaluate.main(["--params", str(tmp_path / "params.yaml"), "--model", str(tmp_path / "no-model")])


def test_attribute_vectors_of_another_model_are_refused(trained, tune, tmp_path):
    checkpoint = trained["models"] / "best.ckpt"
    model = generation.load(checkpoint).model
    other = MusicVAE(model.config)  # the same z size: the old check could not tell
    vector = {"note_density": torch.ones(model.config.z_size)}
    common = ["--vector", "note_density", "--window", 0, "--checkpoint", checkpoint]
    for name, space in (("other", generation.latent_space(other)), ("unmarked", None)):
        save_file(vector, tmp_path / f"{name}.safetensors", metadata={"latent_space": space} if space else None)
        refused = invoke(
            "attribute", tune, "--vectors", tmp_path / f"{name}.safetensors", "--out", tmp_path / f"{name}.mid", *common
        )
        assert refused.exit_code == 1 and "[foreign_vectors]" in refused.stderr
        assert not (tmp_path / f"{name}.mid").exists()
    save_file(vector, tmp_path / "own.safetensors", metadata={"latent_space": generation.latent_space(model)})
    own = invoke("attribute", tune, "--vectors", tmp_path / "own.safetensors", "--out", tmp_path / "own.mid", *common)
    assert (tmp_path / "own.mid").is_file() and "[foreign_vectors]" not in own.stderr, own.output
    assert "--amount" not in own.stderr
    far = invoke(
        "attribute",
        tune,
        "--vectors",
        tmp_path / "own.safetensors",
        "--out",
        tmp_path / "far.mid",
        "--amount",
        "1e6",
        *common,
    )
    assert "warning: --amount 1e+06 moves the code 1e+06 vector lengths, far outside" in far.stderr, far.output


@pytest.mark.parametrize(
    "overrides, named",
    [
        ({"model": {"z_sise": 8}}, "model.z_sise; valid model keys: conductor_input, dec_rnn_size"),
        ({"trainig": {"free_bits": 8}}, "'trainig'; valid keys: base, representation, batch_size, model, training"),
        ({"training": {"lr": 0.1}}, "training.lr; valid training keys: beta_rate, decay_rate"),
    ],
)
def test_a_mistyped_override_names_the_key_and_the_valid_ones(overrides, named):
    with pytest.raises(ValueError, match="unknown key") as refused:  # before: a bare TypeError, or ignored
        load("debug", overrides)
    assert named in str(refused.value)


def test_the_train_stage_names_a_missing_config_and_how_params_come_back(tmp_path):
    """What a failed `dvc exp run -S model.config=...` leaves in params.yaml, and the next run reads."""
    from lightning_modules import train

    params = yaml.safe_load(PARAMS.read_text())
    params["model"]["config"] = "nonexistent"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(SystemExit) as refused:
        train.main(["--params", str(tmp_path / "params.yaml"), "--out", str(tmp_path / "models")])
    said = str(refused.value)
    assert said.startswith("train: no experiment config 'nonexistent'; choose from ")
    assert "`git checkout params.yaml` restores the committed ones" in said


@pytest.mark.parametrize(
    "section, change, named",
    [
        ("train", {"max_step": 100}, "train: params.yaml train.max_step: Key 'max_step' not in 'TrainSettings'"),
        ("train", {"max_steps": "many"}, "train.max_steps: Value 'many' of type 'str' could not be converted"),
        ("train", {"monitor": {"windows": 8}}, "train.monitor.greedy: Structured config of type `Monitor` has missing"),
        ("eval", {"draws": "three"}, "evaluate: params.yaml eval.draws: Value 'three'"),
        ("eval", {"samples": {"m": 3}}, "eval.samples.m: Key 'm' not in 'Samples'"),
    ],
)
def test_a_mistyped_train_or_eval_param_is_refused_by_its_key(section, change, named, tmp_path):
    """params.yaml's sections have one schema (lightning_modules/settings.py): before it, a mistyped key was ignored
    and a missing one a KeyError deep in the stage."""
    from lightning_modules import train

    params = yaml.safe_load(PARAMS.read_text())
    params[section] |= change
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    stage = train.main if section == "train" else evaluate.main
    with pytest.raises(SystemExit) as refused:  # before shards or a model are looked for: there are none here
        stage(["--params", str(tmp_path / "params.yaml"), "--shards", str(tmp_path / "none"), "--out", str(tmp_path)])
    assert named in str(refused.value)
