"""How a model does on music from outside its training corpus, and what its decoder alone can express.

`external_windows` cuts a folder or glob of MIDI files as the model's own windows were cut (its representation and
Magenta's caps). `decoder_bound` fits z per window without the encoder: the z that maximises
log p(x|z) + log N(z; 0, I), by Adam from z = 0, decoded greedily. An encoder that fails shows as greedy accuracy far
under this bound; a decoder that cannot express the music, as a bound near the majority-class baseline. It also
compares decoders that share no encoder, such as Magenta's released one (`musicvae import magentajs`)."""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from functools import partial

import numpy as np
import torch

from lightning_modules import generation
from lightning_modules.components import objective
from lightning_modules.components.musicvae import MusicVAE
from musicvae import learning, metrics
from musicvae.codecs.kinds import KINDS
from musicvae.extract import Representation, extract
from musicvae.midi import midi_files
from musicvae.temperature import GREEDY

log = logging.getLogger(__name__)


class NoWindows(ValueError):
    """Files that give none of the representation's windows: music of another kind (chorales for a drum model)."""


def _windows(path: str, rep: Representation) -> list[np.ndarray]:
    return [w.tokens for w in extract(path, rep).windows]  # never raises: a bad file gives no window


def external_windows(source: str, rep: Representation, workers: int = 1) -> tuple[torch.Tensor, dict]:
    """Windows [N, T, P] of every file of `source`, in file order, and how many files gave how many."""
    paths = midi_files(source)
    if not paths:
        raise FileNotFoundError(f"{source!r} matches no .mid/.midi file")
    cut = partial(_windows, rep=rep)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            found = list(pool.map(cut, paths, chunksize=8))
    else:
        found = list(map(cut, paths))
    windows = [w for file in found for w in file]
    info = {"files": len(paths), "files_with_windows": sum(bool(f) for f in found), "windows": len(windows)}
    if not windows:
        raise NoWindows(f"{source!r}: none of its {len(paths)} files gives a {rep.name} window")
    tokens = np.stack(windows)
    return torch.from_numpy(tokens.reshape(len(tokens), rep.steps, -1).astype(np.int64)), info


def decoder_bound(
    model: MusicVAE, tokens: torch.Tensor, steps: int = 300, learning_rate: float = 0.05, batch: int = 256
) -> dict:
    """Greedy accuracy (and for a melody its onsets) decoding each window from its fitted z, the nats a window
    costs there, and the windows' majority-class baseline."""
    tokens = tokens.long()
    was_training = model.training
    model.eval()
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    fitted, nats = [], []
    try:
        for tb in tokens.split(batch):
            z = torch.zeros(len(tb), model.config.z_size, requires_grad=True)
            optimizer = torch.optim.Adam([z], lr=learning_rate)
            for _ in range(steps):
                optimizer.zero_grad()
                loss = objective.r_loss(model.decode_teacher_forced(z, tb), tb) + 0.5 * z.square().sum(-1)
                loss.sum().backward()
                optimizer.step()
            with torch.no_grad():
                nats.append(objective.r_loss(model.decode_teacher_forced(z, tb), tb))
            fitted.append(z.detach())
    finally:
        for p in frozen:
            p.requires_grad_(True)
        model.train(was_training)
    greedy = generation.decode(model, torch.cat(fitted), GREEDY, batch)
    result = {
        "windows": len(tokens),
        "steps": steps,
        "greedy_accuracy": float(metrics.accuracy(greedy, tokens)),
        "nats_per_window": float(torch.cat(nats).mean()),
        "majority_accuracy": learning.majority_accuracy(tokens),
    }
    if KINDS[model.config.kind].melodic:
        result |= {f"greedy_{k}": v for k, v in metrics.onsets(greedy[..., 0], tokens[..., 0]).items()}
    return result


def load_external(sources: dict[str, str], rep: Representation, workers: int = 1) -> dict[str, tuple]:
    """Each named set's windows and counts. A set that matches no file is an error naming it (a mistyped path); one
    whose files give none of this representation's windows is left out with a warning, so that the default held-out
    melodies do not stop a drum model's evaluation."""
    sets = {}
    for name, source in (sources or {}).items():
        try:
            sets[name] = external_windows(str(source), rep, workers)
        except NoWindows as e:
            log.warning("eval.external.%s: %s; not scored", name, e)
        except (FileNotFoundError, ValueError) as e:
            raise ValueError(f"eval.external.{name}: {e}") from None
    return sets
