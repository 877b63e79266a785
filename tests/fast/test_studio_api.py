"""`musicvae studio`'s API, endpoint by endpoint, on the session's trained model and real MIDI: what each answers,
and bad input (not MIDI, too large, another representation, malformed sequences) refused 4xx with its reason."""

from pathlib import Path

import pytest
import symusic
import torch
from fastapi.testclient import TestClient
from safetensors.torch import save_file

from lightning_modules import generation
from musicvae import windows
from studio.app import create_app
from studio.engine import Engine
from studio.inputs import ShardTestSplit
from studio.serve import studio_app, vectors_for
from tests.support.studio_model import with_vectors

SONG = "pop909/274.mid"  # 118 mel_16bar windows
DRUMS = "groove_train/drummer6/session3/2_rock_100_beat_4-4.mid"  # drums only: no melody window


@pytest.fixture(scope="module")
def setup(trained, shards, tmp_path_factory) -> dict:
    found = with_vectors(trained["models"], shards, tmp_path_factory.mktemp("studio"))
    loaded = generation.load(found["checkpoint"])
    client = TestClient(studio_app(loaded, shards, found["vectors"]))
    return found | {"loaded": loaded, "model": loaded.model, "client": client}


@pytest.fixture(scope="module")
def client(setup) -> TestClient:
    return setup["client"]


@pytest.fixture(scope="module")
def pair(client) -> tuple[dict, dict]:
    return client.get("/api/test-windows/0").json(), client.get("/api/test-windows/1").json()


def test_the_page_and_its_assets_come_from_the_package(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/studio.js" in page.text and "/static/studio.css" in page.text
    assert "http" not in page.text  # no CDN: every script and style from the server itself
    for asset in ("studio.js", "studio.css"):
        assert client.get(f"/static/{asset}").status_code == 200


def test_the_model_is_described_truthfully(client, setup):
    about = client.get("/api/model").json()
    loaded = setup["loaded"]
    assert about["representation"] == loaded.representation.name
    assert about["config"]["z_size"] == loaded.model.config.z_size
    assert about["training_steps"] == loaded.global_step > 0
    assert about["verdict"] == loaded.learning["verdict"]
    assert about["ignores_latent_code"] == (loaded.learning["verdict"] == "latent code unused")
    assert (
        about["attributes"]
        == sorted(["note_density", "average_interval", "syncopation_8th", "syncopation_16th", "c_dim_triad"])
        and not about["attributes_missing"]
    )


def test_an_upload_lists_the_windows_as_explain_numbers_them(client, setup, shared_midi):
    path = shared_midi / SONG
    answer = client.post("/api/upload", params={"name": "folder/274.mid"}, content=path.read_bytes())
    assert answer.status_code == 200
    found = answer.json()["windows"]
    listing = windows.of_file(path, setup["loaded"].representation)
    assert len(found) == len(listing.windows) > 1
    assert [w["label"] for w in found[:3]] == [f"274.mid window {listing.line(i)}" for i in range(3)]
    first = found[0]
    assert first["tokens"] == listing.windows[0].tokens.reshape(-1, 1).tolist()
    assert len(first["z"]) == setup["model"].config.z_size and first["parts"][0]["notes"]


@pytest.mark.parametrize(
    "content, words", [(b"", "the file is empty"), (b"just text, no music", "not a MIDI file, or a damaged one")]
)
def test_a_file_that_is_not_midi_is_refused_with_its_name_and_reason(client, content, words):
    answer = client.post("/api/upload", params={"name": "notes.mid"}, content=content)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("notes.mid: ") and words in answer.json()["error"]


def test_a_file_without_a_window_of_the_models_representation_is_refused(client, shared_midi, setup):
    answer = client.post("/api/upload", params={"name": "beat.mid"}, content=(shared_midi / DRUMS).read_bytes())
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error.startswith(f"beat.mid: no {setup['loaded'].representation.name} window: ")
    assert "[no_extraction]" in error


def test_an_oversized_upload_is_refused_before_it_is_read(setup, shared_midi):
    data = (shared_midi / SONG).read_bytes()
    loaded = setup["loaded"]
    small = TestClient(
        create_app(
            Engine(loaded),
            ShardTestSplit(setup["shards"], loaded.representation, "this model"),
            max_bytes=len(data) - 1,
        )
    )
    answer = small.post("/api/upload", params={"name": "274.mid"}, content=data)
    assert answer.status_code == 413 and "larger than a MIDI file may be" in answer.json()["error"]
    # sent in chunks without a declared length, it is refused as the chunks pass the limit
    chunks = (data[i : i + 4096] for i in range(0, len(data), 4096))
    assert small.post("/api/upload", params={"name": "274.mid"}, content=chunks).status_code == 413
    assert small.post("/api/upload", params={"name": "274.mid"}, content=data[:100]).status_code == 422


def test_test_windows_are_those_of_the_shards(client, shards, setup):
    from lightning_modules.datamodule import read_tokens

    test = read_tokens(shards / setup["loaded"].representation.name, "test")
    labels = client.get("/api/test-windows").json()["labels"]
    assert len(labels) == len(test) and labels[0].startswith("test 0: ")
    assert client.get("/api/test-windows/0").json()["tokens"] == test[0].tolist()
    missing = client.get(f"/api/test-windows/{len(test)}")
    assert missing.status_code == 404 and f"there are {len(test)}" in missing.json()["error"]


def test_interpolation_decodes_the_slerp_between_the_codes_of_a_and_b(client, pair, setup):
    a, b = pair
    path = client.post("/api/interpolate", json={"a": a, "b": b, "steps": 5}).json()
    assert len(path["latent"]) == len(path["data"]) == 5 and path["t"][0] == 0 and path["t"][-1] == 1
    model = setup["model"]
    mu = generation.encode(model, torch.tensor([a["tokens"], b["tokens"]]))[1]
    ends = generation.decode(model, mu, "greedy")
    assert path["latent"][0]["tokens"] == ends[0].tolist() and path["latent"][-1]["tokens"] == ends[1].tolist()
    assert path["latent"][0]["z"] == pytest.approx(mu[0].tolist(), abs=1e-6)
    # the data-space line runs from A's tokens to B's, as the evaluate stage draws it
    assert path["data"][0]["tokens"] == a["tokens"] and path["data"][-1]["tokens"] == b["tokens"]
    assert path["hamming"]["data"][0] == 0 and len(path["hamming"]["latent"]) == 5


@pytest.mark.parametrize(
    "change, words",
    [
        ({"steps": 1}, "a path has 2 to"),
        ({"temperature": 0}, "a temperature must be a number above 0"),
        ({"temperature": "hot"}, "a temperature must be a number above 0"),
        ({"a": {"tokens": [[0]] * 32}}, "this mel_16bar model reads 256 steps"),
        ({"a": {"tokens": [[95]] * 256}}, "token classes outside"),
        ({"a": {"tokens": [[10**30]] * 256}}, "tokens must be a list of steps"),
        ({"a": {"tokens": None}}, "tokens must be a list of steps"),
        ({"b": "B"}, "b must be a sequence"),
    ],
)
def test_a_bad_interpolation_request_says_what_is_wrong(client, pair, change, words):
    body = {"a": pair[0], "b": pair[1], "steps": 3} | change
    answer = client.post("/api/interpolate", json=body)
    assert answer.status_code == 422 and words in answer.json()["error"]


def test_an_attribute_moves_the_code_and_reports_the_measured_change(client, pair, setup):
    a = pair[0]
    still = client.post("/api/attribute", json={"z": a["z"], "amounts": {"note_density": 0}}).json()
    base = generation.decode(setup["model"], torch.tensor([a["z"]]), "greedy")[0]
    assert still["tokens"] == base.tolist() and set(still["change"].values()) == {0.0}
    moved = client.post("/api/attribute", json={"z": a["z"], "amounts": {"note_density": 2.5}}).json()
    assert moved["z"] != a["z"] and set(moved["change"]) == set(moved["attributes"])
    unknown = client.post("/api/attribute", json={"z": a["z"], "amounts": {"loudness": 1}})
    assert unknown.status_code == 422 and "no attribute vector loudness" in unknown.json()["error"]
    for z in ([0.0, 1.0], None, ["a"] * len(a["z"]), [10**400] * len(a["z"])):
        wrong = client.post("/api/attribute", json={"z": z, "amounts": {}})
        assert wrong.status_code == 422 and "z must be" in wrong.json()["error"]


def test_another_models_vectors_are_not_offered(setup, tmp_path):
    foreign = tmp_path / "vectors.safetensors"
    save_file({"note_density": torch.ones(setup["model"].config.z_size)}, foreign, metadata={"latent_space": "other"})
    found, why = vectors_for(setup["model"], foreign)
    assert found == {} and "[foreign_vectors]" in why
    about = TestClient(studio_app(setup["loaded"], setup["shards"], foreign)).get("/api/model").json()
    assert about["attributes"] == [] and "[foreign_vectors]" in about["attributes_missing"]


def test_a_sample_repeats_for_its_seed(client):
    first, again = (client.post("/api/sample", json={"temperature": 1.0, "seed": 7}).json() for _ in range(2))
    other = client.post("/api/sample", json={"temperature": 1.0, "seed": 8}).json()
    assert first["tokens"] == again["tokens"] and first["z"] == again["z"] != other["z"]
    assert client.post("/api/sample", json={"temperature": -1}).status_code == 422
    assert client.post("/api/sample", content=b"not json").status_code == 422


def test_a_result_downloads_as_midi_that_parses(client, pair):
    a = pair[0]
    answer = client.post("/api/midi", json={"tokens": a["tokens"], "qpm": a["qpm"], "name": "../a b.mid"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "audio/midi"
    assert 'filename="a_b.mid"' in answer.headers["content-disposition"]
    score = symusic.Score.from_midi(answer.content)
    assert sum(len(t.notes) for t in score.tracks) == len(a["parts"][0]["notes"]) > 0
    assert client.post("/api/midi", json={"tokens": a["tokens"], "qpm": 0}).status_code == 422


def test_without_shards_the_test_split_says_why(setup, tmp_path):
    client = TestClient(studio_app(setup["loaded"], tmp_path / "nowhere", Path(setup["vectors"])))
    listing = client.get("/api/test-windows").json()
    assert listing["labels"] == [] and "no manifest.json" in listing["missing"]
