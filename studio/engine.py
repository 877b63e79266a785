"""The model's work for the studio page: encode, slerp, attribute arithmetic, sampling and decoding, each answered as
sequences the page can draw, play and download.

A sequence travels as JSON: its tokens [T, P], its code z when it has one, its tempo and programs, its notes per
part (what the piano roll draws and the synth plays) and, for melodies, its measured attributes. The page holds the
sequences and sends back tokens or codes, so the server keeps no per-user state that requests could corrupt; the
model itself is shared, so every use of it (and of torch's global RNG, which seeds make repeatable) holds one lock."""

from __future__ import annotations

import threading

import numpy as np
import torch

from lightning_modules import generation
from lightning_modules.checkpoint import LoadedModel
from musicvae import export, learning
from musicvae.attributes import ATTRIBUTES
from musicvae.codecs.kinds import KINDS
from musicvae.latent import apply_attribute, interpolation_path
from musicvae.temperature import GREEDY, check_temperature

MAX_STEPS = 33  # points on one interpolation path: a page's worth of piano rolls, and a bounded request


class BadRequest(ValueError):
    """A request the page (or a script) got wrong: answered 422 with this reason."""


class Engine:
    def __init__(self, loaded: LoadedModel, vectors: dict[str, torch.Tensor] | None = None, vectors_missing: str = ""):
        """vectors: the evaluate stage's attribute vectors for this model; vectors_missing: why there are none."""
        self.loaded, self.model, self.representation = loaded, loaded.model, loaded.representation
        self.config = loaded.model.config
        drums = not KINDS[self.config.kind].melodic  # the paper's attributes are melodic
        self.vectors = {} if drums else vectors or {}
        self.vectors_missing = "drum patterns have no melodic attributes" if drums else vectors_missing
        self._lock = threading.Lock()

    # --- what the page shows about the model ---------------------------------------------------------------------

    def about(self) -> dict:
        record = self.loaded.learning
        verdict = record["verdict"] if record else None
        return {
            "representation": self.representation.name,
            "kind": self.config.kind,
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self.config).items()},
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "training_steps": self.loaded.global_step,
            "learning": record,
            "verdict": verdict,
            "verdict_words": learning.explain(verdict)
            if verdict
            else "this checkpoint has no learning-monitor record: whether the model learned is unknown",
            # the one state in which every slider does nothing: the decoder does not read z
            "ignores_latent_code": verdict == "latent code unused",
            "attributes": sorted(self.vectors),
            "attributes_missing": self.vectors_missing,
        }

    # --- sequences -----------------------------------------------------------------------------------------------

    def tokens(self, given) -> torch.Tensor:
        """Tokens sent by the page, checked against the model: [T, P] of class indices."""
        try:
            array = np.asarray(given, dtype=np.int64)
        except (TypeError, ValueError, OverflowError):
            raise BadRequest("tokens must be a list of steps, each a list of class indices") from None
        want = (self.config.steps, len(self.config.classes))
        if array.shape != want:
            raise BadRequest(
                f"a sequence of shape {list(array.shape)}, but this {self.representation.name} "
                f"model reads {want[0]} steps of {want[1]} part(s)"
            )
        if (array < 0).any() or (array >= np.asarray(self.config.classes)).any():
            raise BadRequest(f"token classes outside this model's {list(self.config.classes)}")
        return torch.from_numpy(array)

    def code(self, given) -> torch.Tensor:
        try:
            z = torch.tensor(given, dtype=torch.float32)
        except (TypeError, ValueError, OverflowError, RuntimeError):
            raise BadRequest("z must be a list of numbers") from None
        if z.shape != (self.config.z_size,) or not torch.isfinite(z).all():
            raise BadRequest(f"z must be {self.config.z_size} finite numbers for this model")
        return z

    def sequence(
        self,
        tokens: torch.Tensor,
        z: torch.Tensor | None = None,
        qpm: float = 120.0,
        programs: tuple[int, ...] = (),
        label: str = "",
    ) -> dict:
        array = tokens.numpy()
        result = {
            "label": label,
            "tokens": array.tolist(),
            "z": None if z is None else z.tolist(),
            "qpm": float(qpm),
            "programs": [int(p) for p in programs],
            "steps": int(len(array)),
            "parts": export.sequence_parts(self.config.kind, array, tuple(programs)),
            "attributes": {},
        }
        if KINDS[self.config.kind].melodic:  # the paper's attributes are melodic: a trio's are its melody's
            result["attributes"] = {name: float(f(array[:, 0])) for name, f in ATTRIBUTES.items()}
        return result

    # --- the model at work ---------------------------------------------------------------------------------------

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        """The encoder means [N, Z] of windows [N, T, P]: a window's place in the latent space, without a draw."""
        with self._lock:
            return generation.encode(self.model, tokens.long())[1]

    def decode(self, z: torch.Tensor, temperature: float | str = GREEDY, seed: int = 0) -> torch.Tensor:
        """Codes [N, Z] to tokens [N, T, P]; a temperature's draws repeat for the same seed."""
        with self._lock:
            torch.manual_seed(seed)
            return generation.decode(self.model, z, temperature)

    def interpolate(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        steps: int,
        temperature: float | str,
        seed: int,
        qpm: float,
        programs: tuple[int, ...],
    ) -> dict:
        """The slerp path between the codes of A and B, decoded, beside the evaluate stage's data-space line (each
        step takes B's token with probability t) and both lines' Hamming distance to A."""
        if not 2 <= steps <= MAX_STEPS:
            raise BadRequest(f"steps {steps}: a path has 2 to {MAX_STEPS} points, both ends included")
        mu = self.encode(torch.stack([a, b]))
        path = interpolation_path(mu[0], mu[1], steps)
        latent = self.decode(path, temperature, seed)
        t = torch.linspace(0, 1, steps)
        from_b = torch.rand(steps, *a.shape, generator=torch.Generator().manual_seed(seed)) < t.view(-1, 1, 1)
        data = torch.where(from_b, b, a)

        def distance(line: torch.Tensor) -> list[float]:
            return (line != a).float().flatten(1).mean(1).tolist()

        return {
            "t": t.tolist(),
            "latent": [
                self.sequence(x, z, qpm, programs, f"slerp t={float(s):.2f}") for x, z, s in zip(latent, path, t)
            ],
            "data": [self.sequence(x, None, qpm, programs, f"data-space t={float(s):.2f}") for x, s in zip(data, t)],
            "hamming": {"latent": distance(latent), "data": distance(data)},
        }

    def attribute(self, z: torch.Tensor, amounts: dict[str, float], qpm: float, programs: tuple[int, ...]) -> dict:
        """z moved by amount·vector for every attribute (the paper's arithmetic), decoded greedily, with the
        attributes measured on it against those of z's own greedy decoding."""
        unknown = sorted(set(amounts) - set(self.vectors))
        if unknown:
            raise BadRequest(
                f"no attribute vector {', '.join(unknown)}; this model has "
                f"{', '.join(sorted(self.vectors)) or 'none'}"
                + (f" ({self.vectors_missing})" if self.vectors_missing else "")
            )
        moved = z
        for name, amount in amounts.items():
            if not isinstance(amount, (int, float)) or not np.isfinite(amount):
                raise BadRequest(f"amount of {name} must be a number")
            moved = apply_attribute(moved, self.vectors[name], float(amount))
        base, shifted = self.decode(torch.stack([z, moved]))
        before, after = self.sequence(base, z, qpm, programs), self.sequence(shifted, moved, qpm, programs, "moved")
        after["change"] = {k: after["attributes"][k] - before["attributes"][k] for k in after["attributes"]}
        return after

    def sample(self, temperature: float | str, seed: int) -> dict:
        """z ~ N(0, I) from `seed`'s generator, decoded at `temperature`: the same seed gives the same melody."""
        z = torch.randn(1, self.config.z_size, generator=torch.Generator().manual_seed(seed))
        return self.sequence(
            self.decode(z, temperature, seed)[0], z[0], label=f"sample, seed {seed}, temperature {temperature}"
        )

    def midi(self, tokens: torch.Tensor, qpm: float, programs: tuple[int, ...]) -> bytes:
        return export.to_midi(export.window_parts(self.config.kind, tokens.numpy(), programs), qpm)


def temperature(given) -> float | str:
    try:
        return check_temperature(given)
    except ValueError as e:
        raise BadRequest(str(e)) from None
