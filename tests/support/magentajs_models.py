"""Small randomly initialised models of each kind the magenta.js tests export, their inputs as tokens and as
NoteSequence JSON, and a local HTTP server for checkpoint folders."""

from __future__ import annotations

import functools
import http.server
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from lightning_modules.checkpoint import LoadedModel
from lightning_modules.components.musicvae import ModelConfig, MusicVAE
from musicvae.codecs import drums, melody
from musicvae.extract import REPRESENTATIONS

KINDS = {  # name: (representation, hierarchical)
    "mel_2bar flat": ("mel_2bar", False),
    "mel_16bar hierarchical": ("mel_16bar", True),
    "drums_2bar flat": ("drums_2bar", False),
    "trio_16bar hierarchical": ("trio_16bar", True),
}
WEIGHT_STD = 0.5  # far above Magenta's N(0, 1e-3) heads: mu and the greedy notes then depend on every weight
OUTPUT_STD = 2.0  # logits that differ from step to step, so that greedy decoding does not settle on one class


def random_model(kind: str, seed: int = 0) -> LoadedModel:
    name, hierarchical = KINDS[kind]
    rep = REPRESENTATIONS[name]
    config = ModelConfig(
        kind=rep.kind,
        classes=rep.classes,
        steps=rep.steps,
        z_size=8,
        enc_rnn_size=(12,),
        dec_rnn_size=(12, 12),
        hierarchical=hierarchical,
        encoder="hierarchical" if hierarchical else "bidirectional",
    )
    torch.manual_seed(seed)
    model = MusicVAE(config)
    with torch.no_grad():
        for key, p in model.named_parameters():
            p.normal_(0, OUTPUT_STD if ".output." in key else WEIGHT_STD)
    return LoadedModel(model.eval(), rep)


def _melody_notes(rng: np.random.Generator, steps: int, low: int, high: int) -> list[tuple[int, int, int]]:
    notes, step = [], int(rng.integers(0, 3))
    while step < steps:
        length = int(rng.integers(1, 6))
        notes.append((int(rng.integers(low, high)), step, min(step + length, steps)))
        step += length + int(rng.choice([0, 0, 1, 3]))
    return notes


def _melody_tokens(notes, steps: int) -> np.ndarray:
    """As magenta.js's Melody.fromNoteSequence: the onset's pitch, then a note-off where the note ends."""
    events = np.full(steps, melody.NO_EVENT)
    for pitch, start, end in notes:
        events[start] = pitch
        if end < steps:
            events[end] = melody.NOTE_OFF
    return melody.encode(events.tolist()).astype(np.int64)


def inputs(kind: str, n: int, seed: int = 0) -> tuple[torch.Tensor, list[dict]]:
    """n windows as tokens [n, steps, parts] and as quantized NoteSequence JSON (magenta.js's programs)."""
    rep = REPRESENTATIONS[KINDS[kind][0]]
    rng = np.random.default_rng(seed)
    tokens, sequences = [], []
    for _ in range(n):
        parts, notes = [], []
        if rep.kind in ("melody", "trio"):
            for program, (low, high) in ((0, (60, 84)), (33, (36, 55)))[: 1 if rep.kind == "melody" else 2]:
                found = _melody_notes(rng, rep.steps, low, high)
                parts.append(_melody_tokens(found, rep.steps))
                notes += [
                    {"pitch": p, "quantizedStartStep": s, "quantizedEndStep": e, "program": program}
                    for p, s, e in found
                ]
        if rep.kind in ("drums", "trio"):
            hits = np.where(rng.random(rep.steps) < 0.5, rng.integers(1, drums.CLASSES, rep.steps), 0)
            parts.append(hits)
            notes += [
                {"pitch": p, "quantizedStartStep": s, "quantizedEndStep": e, "isDrum": True}
                for p, s, e in drums.to_notes(hits)
            ]
        tokens.append(np.stack(parts, -1))
        sequences.append({"notes": notes, "quantizationInfo": {"stepsPerQuarter": 4}, "totalQuantizedSteps": rep.steps})
    return torch.from_numpy(np.stack(tokens)), sequences


def notes_of(tokens: np.ndarray, kind: str) -> list[list]:
    """Decoded tokens [steps, parts] as magenta.js's converters write notes: [pitch, start, end, instrument,
    isDrum], sorted."""
    rep = REPRESENTATIONS[KINDS[kind][0]]
    if rep.kind == "melody":
        parts = [(melody.to_notes(tokens[:, 0]), False)]
    elif rep.kind == "drums":
        parts = [(drums.to_notes(tokens[:, 0]), True)]
    else:
        parts = [
            (melody.to_notes(tokens[:, 0]), False),
            (melody.to_notes(tokens[:, 1]), False),
            (drums.to_notes(tokens[:, 2]), True),
        ]
    return sorted(
        [p, s, e, i if rep.kind == "trio" else 0, d] for i, (found, d) in enumerate(parts) for p, s, e in found
    )


@contextmanager
def served(folder: Path):
    """The folder over HTTP on 127.0.0.1, as a browser or Node fetches a magenta.js checkpoint."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
