"""A trained model to a magenta.js checkpoint folder (`export`), and a magenta.js checkpoint folder or URL to this
project's model and checkpoint (`load`, `write_checkpoint`)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import torch

from lightning_modules.checkpoint import LoadedModel, hyperparameters
from lightning_modules.components.musicvae import ModelConfig, MusicVAE
from lightning_modules.magentajs import manifest
from lightning_modules.magentajs.spec import Unsupported, config_json, representation, unsupported_for_magentajs
from lightning_modules.magentajs.variables import from_tf, names, to_tf
from lightning_modules.vae_module import TrainingConfig

CONFIG = "config.json"
CONVERTER = "converter.json"  # deeplearn.js checkpoints keep only the data converter beside their weights
HIERARCHICAL_ENCODER = "encoder/hierarchical_level_0/"
SIGMA = ("encoder/sigma/kernel", "encoder/sigma/bias")
TIMEOUT_S = 60


class Unreadable(ValueError):
    """A checkpoint file that cannot be read (missing, unreachable); the message says which."""


def export(loaded: LoadedModel, folder: Path, quantize_bytes: int | None = None) -> None:
    model = loaded.model
    reason = unsupported_for_magentajs(model.config)
    if reason:
        raise Unsupported(reason)
    folder.mkdir(parents=True, exist_ok=True)
    dense, cells = names(model.config, model.config.encoder == "hierarchical")
    manifest.write(folder, to_tf(model.state_dict(), dense, cells), quantize_bytes)
    (folder / CONFIG).write_text(json.dumps(config_json(loaded.representation, model.config.hierarchical), indent=1))


def reader(source: str) -> Callable[[str], bytes]:
    """The files of a checkpoint at a folder or an http(s) URL, by relative path."""
    if re.match(r"https?://", source):

        def get(path: str) -> bytes:
            url = f"{source.rstrip('/')}/{path}"
            try:
                with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                    return response.read()
            except (urllib.error.URLError, OSError) as e:
                raise Unreadable(f"{url}: {getattr(e, 'reason', e)}") from None

        return get

    def read(path: str) -> bytes:
        try:
            return (Path(source) / path).read_bytes()
        except OSError as e:
            raise Unreadable(f"{Path(source) / path}: {e.strerror}") from None

    return read


def _layers(tf_vars: dict, cell: str) -> tuple[int, ...]:
    """Units of each layer of a stack, `cell` having {l} for the layer."""
    sizes = []
    while f"{cell.format(l=len(sizes))}bias" in tf_vars:
        sizes.append(tf_vars[f"{cell.format(l=len(sizes))}bias"].shape[0] // 4)
    return tuple(sizes)


def _json(get: Callable[[str], bytes], name: str) -> dict:
    try:
        return json.loads(get(name))
    except json.JSONDecodeError as e:
        raise Unsupported(f"{name} is not JSON ({e})") from None


def _read(get: Callable[[str], bytes]) -> tuple[dict, dict]:
    """config.json's spec and the weights, from magenta.js 1.x's layout or deeplearn.js's (its converter.json is
    the spec's dataConverter)."""
    try:
        spec = _json(get, CONFIG)
    except Unreadable:
        try:
            converter = _json(get, CONVERTER)
        except Unreadable:
            raise Unreadable(f"neither {CONFIG} (magenta.js 1.x) nor {CONVERTER} (deeplearn.js) is there") from None
        return {"type": "MusicVAE", "dataConverter": converter}, manifest.read_deeplearnjs(get)
    return spec, manifest.read(get)


def load(source: str) -> tuple[LoadedModel, list[str]]:
    """The model of a magenta.js checkpoint, and notes for the user (what was filled in)."""
    get = reader(source)
    spec, tf_vars = _read(get)
    rep, hierarchical = representation(spec)
    for marker, what in (("nade/", "a NADE decoder"), ("control_preprocessing/", "control preprocessing")):
        if any(marker in n for n in tf_vars):
            raise Unsupported(f"the checkpoint has {what}, which this model does not")
    hierarchical_encoder = any(n.startswith(HIERARCHICAL_ENCODER) for n in tf_vars)
    encoder = (
        HIERARCHICAL_ENCODER if hierarchical_encoder else "encoder/"
    ) + "cell_{l}/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/"
    core = (
        "core_decoder/" + ("core_decoder_0/" if rep.kind == "trio" else "") if hierarchical else ""
    ) + "decoder/multi_rnn_cell/cell_{l}/lstm_cell/"
    enc, dec = _layers(tf_vars, encoder), _layers(tf_vars, core)
    if not enc or not dec or "encoder/mu/bias" not in tf_vars:
        raise Unsupported(
            f"no {'encoder' if not enc else 'decoder' if not dec else 'encoder/mu'} variables in the "
            f"layout magenta.js reads (first names: {', '.join(sorted(tf_vars)[:4])})"
        )
    if hierarchical and _layers(tf_vars, "decoder/hierarchical_level_0/cell_{l}/lstm_cell/") != dec:
        raise Unsupported("the conductor's layers differ from the core decoder's; this model gives both dec_rnn_size")
    try:
        config = ModelConfig(
            kind=rep.kind,
            classes=rep.classes,
            steps=rep.steps,
            z_size=tf_vars["encoder/mu/bias"].shape[0],
            enc_rnn_size=enc,
            dec_rnn_size=dec,
            hierarchical=hierarchical,
            encoder="hierarchical" if hierarchical_encoder else "bidirectional",
        )
        model = MusicVAE(config)
    except ValueError as e:
        raise Unsupported(str(e)) from None
    notes = []
    if not all(n in tf_vars for n in SIGMA):  # magenta.js never reads sigma, so a checkpoint may leave it out
        notes.append(
            "the checkpoint has no encoder/sigma (magenta.js does not use it): sigma's head starts as "
            "Magenta initialises it, so that the model can be fine-tuned"
        )
        sigma = model.encoder.sigma
        tf_vars |= dict(zip(SIGMA, (sigma.weight.detach().numpy().T, sigma.bias.detach().numpy())))
    dense, cells = names(config, hierarchical_encoder)
    missing = [n for n in [*dense, *(c + "kernel" for c in cells)] if n not in tf_vars]
    if missing:
        raise Unsupported(f"missing variables: {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    try:
        model.load_state_dict(from_tf(tf_vars, dense, cells))
    except RuntimeError as e:  # shapes that do not fit the representation (e.g. another class count)
        raise Unsupported(f"the weights do not fit a {rep.name} model: {str(e).splitlines()[-1].strip()}") from None
    return LoadedModel(model.eval(), rep), notes


def write_checkpoint(loaded: LoadedModel, out: Path, source: str) -> None:
    """What lightning_modules/checkpoint.py load_model reads, with Magenta's training defaults for fine-tuning."""
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "state_dict": {f"model.{k}": v for k, v in loaded.model.state_dict().items()},
            "hyper_parameters": hyperparameters(loaded.model.config, TrainingConfig(), loaded.representation),
            "imported_from": source,
        },
        out,
    )
