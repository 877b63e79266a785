"""The `evaluate` stage: the paper's evaluation of a trained model on the test split, and its latent-space tools.

    python -m lightning_modules.evaluate --params params.yaml --shards data/shards --model models \
        --out reports/evaluate --metrics reports/metrics.json --plots reports/plots

Writes reconstruction accuracy (teacher-forced, fully sampled, greedy; overall and per bar; per part for trios),
how the note onsets of melodic parts come back (onset recall and precision, pitch at onsets: rhythm against pitch),
KL bits, the ELBO and active units to the metrics file; per-bar accuracy and interpolation curves (CSV and PNG) to
the plots folder; samples, an interpolation and a reconstruction as MIDI and piano rolls, attribute vectors and
their effect matrix, and (with FluidSynth) audio and a listening page to the out folder; how like the test windows
the prior's samples are (musicvae.realism). It scores the music of `eval.external` (folders or globs from outside
the training corpus) as it scores the test split, and gives both the decoder-only bound (generalization.py).
Everything is also logged to the training run in MLflow."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from lightning_modules import generation, representations
from lightning_modules.attribute_effects import attribute_effects
from lightning_modules.components import objective
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import read_tokens
from lightning_modules.evaluation_outputs import log_to_mlflow, write_listening, write_windows
from lightning_modules.generalization import decoder_bound, load_external
from lightning_modules.learning_monitor import diagnose
from lightning_modules.settings import EvalSettings, eval_settings
from musicvae import export, learning, metrics
from musicvae.codecs.kinds import KINDS
from musicvae.figures import curve_png
from musicvae.headline import headline
from musicvae.latent import interpolation_path
from musicvae.realism import attribute_overlap
from musicvae.temperature import GREEDY, check_temperature

log = logging.getLogger("musicvae.evaluate")
PARTS = {"melody": ("melody",), "drums": ("drums",), "trio": ("melody", "bass", "drums")}


def subset(tokens: torch.Tensor, limit: int | None, seed: int) -> torch.Tensor:
    """A seeded choice of at most `limit` windows, in their stored order."""
    if limit is None or len(tokens) <= limit:
        return tokens
    keep = torch.randperm(len(tokens), generator=torch.Generator().manual_seed(seed))[:limit]
    return tokens[keep.sort().values]


def reconstruction(model: MusicVAE, tokens: torch.Tensor, settings: EvalSettings) -> tuple[dict, list[dict], dict]:
    """Accuracy of every mode overall and per bar, KL bits, ELBO and active units; and the decoded windows."""
    tokens = tokens.long()
    batch = settings.batch_size
    torch.manual_seed(settings.seed)
    z, mu, sigma = generation.encode(model, tokens, batch)
    r, predicted = [], []  # one teacher-forced pass gives the reconstruction loss and the argmax tokens
    with torch.no_grad():
        for zb, tb in zip(z.split(batch), tokens.split(batch)):
            logits = model.decode_teacher_forced(zb, tb)
            r.append(objective.r_loss(logits, tb))
            predicted.append(torch.stack([lg.argmax(-1) for lg in logits], -1))
    r, kl = torch.cat(r), metrics.kl_divergence(mu, sigma)
    decoded = {
        "teacher_forced": [torch.cat(predicted)],
        "sampled": [
            generation.decode(
                model,
                mu + sigma * torch.randn_like(sigma),  # a fresh z ~ q(z|x)
                settings.temperature,
                batch,
            )
            for _ in range(settings.draws)
        ],
        "greedy": [generation.decode(model, mu, GREEDY, batch)],
    }
    names = PARTS[model.config.kind]
    result = {
        "test_windows": len(tokens),
        "kl_bits": float(metrics.kl_bits(mu, sigma).mean()),
        "elbo": float(-(r + kl).mean()),
        "r_loss": float(r.mean()),
        "active_units": metrics.active_units(mu),
        "z_size": model.config.z_size,
        "accuracy": {},
        "notes": {},
    }
    per_bar = {}
    for mode, draws in decoded.items():
        for p, part in enumerate(names):
            key = mode if len(names) == 1 else f"{part}_{mode}"
            per_bar[key] = torch.stack([metrics.accuracy_per_bar(d[..., p], tokens[..., p]) for d in draws]).mean(0)
            result["accuracy"][key] = float(
                torch.stack([metrics.accuracy(d[..., p], tokens[..., p]) for d in draws]).mean()
            )
            if part != "drums":  # a melody's classes are pitches: rhythm and pitch can be told apart
                scores = [metrics.onsets(d[..., p], tokens[..., p]) for d in draws]
                result["notes"][key] = {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
    rows = [{"bar": b + 1, **{k: round(float(v[b]), 6) for k, v in per_bar.items()}} for b in range(model.config.bars)]
    return result, rows, {"input": tokens, "sampled": decoded["sampled"][0], "greedy": decoded["greedy"][0], "mu": mu}


def interpolation(
    model: MusicVAE, tokens: torch.Tensor, mu: torch.Tensor, settings: EvalSettings
) -> tuple[dict, list[dict], torch.Tensor]:
    """Slerp between the encoder means `mu` of seeded test pairs, decoded greedily, against naive data-space
    interpolation (each step takes B's token with probability t): normalized Hamming distance to A along the path,
    and how monotonically it rises (Spearman). Returns the metrics, the mean curves, the first pair's path and that
    pair's two test windows."""
    pairs, steps = settings.interpolation.pairs, settings.interpolation.steps
    generator = torch.Generator().manual_seed(settings.seed)
    order = torch.randperm(len(tokens), generator=generator)
    if len(tokens) < 2 * pairs:
        log.warning(
            "interpolation: %d test windows make %d pairs, not the %d eval.interpolation.pairs asks for",
            len(tokens),
            len(tokens) // 2,
            pairs,
        )
        pairs = len(tokens) // 2
    if pairs == 0:
        raise ValueError(f"interpolation needs two test windows, the test split has {len(tokens)}")
    a, b = tokens[order[:pairs]].long(), tokens[order[pairs : 2 * pairs]].long()
    path = interpolation_path(mu[order[:pairs]], mu[order[pairs : 2 * pairs]], steps)  # [K, pairs, Z]
    latent = generation.decode(model, path.flatten(0, 1), GREEDY, settings.batch_size).view(steps, pairs, -1)
    t = torch.linspace(0, 1, steps)
    from_b = torch.rand(steps, *a.shape, generator=generator) < t.view(-1, 1, 1, 1)
    data = torch.where(from_b, b, a).flatten(2)
    curves = {
        "latent": metrics.hamming(latent, a.flatten(1)),  # [K, pairs]
        "data": metrics.hamming(data, a.flatten(1)),
    }
    result = {
        f"{k}_monotonicity": float(np.mean([metrics.monotonicity(c[:, i]) for i in range(pairs)]))
        for k, c in curves.items()
    }
    result |= {"pairs": pairs, "steps": steps, "latent_midpoint_hamming": float(curves["latent"][steps // 2].mean())}
    rows = [
        {
            "step": k,
            "t": round(float(t[k]), 6),
            **{f"{name}_hamming": round(float(c[k].mean()), 6) for name, c in curves.items()},
        }
        for k in range(steps)
    ]
    return result, rows, latent[:, 0].view(steps, *a.shape[1:]), [a[0], b[0]]


def samples(model: MusicVAE, settings: EvalSettings) -> torch.Tensor:
    torch.manual_seed(settings.seed)
    return model.sample(settings.samples.n, settings.samples.temperature)


def realism(model: MusicVAE, validation: torch.Tensor, test: torch.Tensor, settings: EvalSettings) -> dict:
    """How like the test windows the prior's samples are, attribute by attribute, beside the validation windows (cut
    and capped as the test split is; the training split may keep every window) as the ceiling: as like them as a
    real set of that size is."""
    torch.manual_seed(settings.seed)
    generated = model.sample(settings.samples.compared, settings.samples.temperature)[..., 0].numpy()
    real = subset(validation, settings.samples.compared, settings.seed)[..., 0].numpy()
    return {
        "compared": len(generated),
        "attribute_overlap": attribute_overlap(generated, test[..., 0].numpy()),
        "ceiling": attribute_overlap(real, test[..., 0].numpy())["mean"],
    }


def _write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def bound(model: MusicVAE, tokens: torch.Tensor, settings: EvalSettings) -> dict | None:
    """The decoder-only bound on a seeded choice of the windows; none with `eval.decoder_bound.windows` 0 (on a CPU
    a 16-bar model's bound costs minutes)."""
    fit = settings.decoder_bound
    if fit.windows == 0:
        return None
    return decoder_bound(model, subset(tokens, fit.windows, settings.seed), fit.steps, fit.learning_rate)


def external(model: MusicVAE, sets: dict[str, tuple], settings: EvalSettings) -> dict:
    """Each named set scored as the test split: accuracy in every mode, onsets, KL and ELBO, against its own
    majority-class baseline, and its decoder-only bound."""
    scored = {}
    for name, (tokens, counts) in sets.items():
        tokens = subset(tokens, settings.max_examples, settings.seed)
        result, _, _ = reconstruction(model, tokens, settings)
        scored[name] = {
            **counts,
            **result,
            "majority_accuracy": learning.majority_accuracy(tokens),
            "decoder_bound": bound(model, tokens, settings),
        }
        greedy = result["accuracy"][KINDS[model.config.kind].greedy_key]
        if greedy < scored[name]["majority_accuracy"] + learning.BASELINE_MARGIN:
            log.warning(
                "on %s (eval.external) greedy accuracy %.3f is at its majority-class baseline %.3f: the model "
                "does not reconstruct music from outside its corpus",
                name,
                greedy,
                scored[name]["majority_accuracy"],
            )
    return scored


def evaluate(
    model: MusicVAE, shards: Path, settings: EvalSettings, out: Path, plots: Path, sets: dict[str, tuple] | None = None
) -> dict:
    kind = model.config.kind
    test = subset(read_tokens(shards, "test"), settings.max_examples, settings.seed)
    result, per_bar, recon = reconstruction(model, test, settings)
    result["interpolation"], curve, path, ends = interpolation(model, test, recon["mu"], settings)
    sampled = samples(model, settings)
    _write_csv(plots / "accuracy_per_bar.csv", per_bar)
    _write_csv(plots / "interpolation.csv", curve)
    (plots / "accuracy_per_bar.png").write_bytes(
        curve_png(per_bar, "bar", "accuracy", "Reconstruction accuracy per bar")
    )
    (plots / "interpolation.png").write_bytes(
        curve_png(curve, "t", "Hamming distance to A", "Interpolation: distance from the start A")
    )
    windows = {
        "reconstruction": (
            [recon[k][0] for k in ("input", "sampled", "greedy")],
            ["input", f"sampled (T={settings.temperature})", "greedy"],
        ),
        "samples": (list(sampled), [f"sample {i}" for i in range(len(sampled))]),
        # the real test windows the path runs between, heard before it; and for `musicvae interpolate`
        "endpoints": (ends, ["A (test window)", "B (test window)"]),
        "interpolation": (list(path), [f"t={float(t):.2f}" for t in torch.linspace(0, 1, len(path))]),
    }
    written = {name: write_windows(out / name, kind, tokens, labels) for name, (tokens, labels) in windows.items()}
    result["learning"] = {k: v for k, v in diagnose(model, test).items() if k != "kl_per_dim"}
    result["decoder_bound"] = bound(model, test, settings)
    result["external"] = external(model, sets or {}, settings)
    result["empty_outputs"] = {
        name: sum(not export.has_notes(kind, t.numpy()) for t in tokens)
        for name, (tokens, _) in windows.items()
        if name != "endpoints"
    }  # the model's
    warn(result)
    if KINDS[kind].melodic:
        train = subset(read_tokens(shards, "train"), settings.attributes.examples, settings.seed)
        result["attributes"] = attribute_effects(model, train, test, recon["mu"], settings, out)
        result["samples"] = realism(model, read_tokens(shards, "eval"), test, settings)
    else:
        log.info("attribute vectors, samples' realism: skipped, the paper's attributes are melodic; this is %s", kind)
    result["audio"] = write_listening(out, written, kind)
    return result


def warn(result: dict) -> None:
    """Says plainly when the model has not learned or wrote windows without a note."""
    verdict = result["learning"]["verdict"]
    if verdict != "learning":
        log.warning("the model is %s on the test split: %s", verdict.upper(), learning.explain(verdict))
    for name, empty in result["empty_outputs"].items():
        if empty:
            log.warning("%d of the %s windows written have no notes", empty, name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--shards", default="data/shards", type=Path)
    parser.add_argument("--model", default="models", type=Path, help="the train stage's folder")
    parser.add_argument("--out", default="reports/evaluate", type=Path)
    parser.add_argument("--metrics", default="reports/metrics.json", type=Path, help="every metric")
    parser.add_argument(
        "--headline", type=Path, help="the numbers DVC shows, about 20 (default: headline.json beside --metrics)"
    )
    parser.add_argument("--plots", default="reports/plots", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    try:
        settings = eval_settings(yaml.safe_load(Path(args.params).read_text())["eval"])
    except ValueError as e:
        raise SystemExit(f"evaluate: {e}") from None
    for key, value in (
        ("temperature", settings.temperature),
        ("samples.temperature", settings.samples.temperature),
    ):
        try:
            check_temperature(value)
        except ValueError as e:
            raise SystemExit(f"evaluate: eval.{key}: {e}") from None
    best = args.model / "best.ckpt"
    checkpoint = best if best.exists() else args.model / "last.ckpt"
    loaded = generation.load(checkpoint)
    model, rep = loaded.model, loaded.representation
    folder = args.shards / rep.name
    try:
        representations.check_same(rep, str(checkpoint), representations.of_shards(folder), str(folder))
    except representations.Mismatch as e:
        raise SystemExit(f"evaluate: {e}; rerun `dvc repro` so that the model trains on these shards") from None
    try:  # before the long work: a set that matches nothing is a mistyped path
        sets = load_external(settings.external, rep, workers=os.cpu_count() or 1)
    except ValueError as e:
        raise SystemExit(f"evaluate: {e}") from None
    start = time.perf_counter()
    log.info("evaluating %s on the test split (%s)%s", checkpoint, folder, f" and {', '.join(sets)}" if sets else "")
    result = evaluate(model, folder, settings, args.out, args.plots, sets)
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    args.metrics.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    run = json.loads((args.model / "run.json").read_text())
    headline_path = args.headline or args.metrics.with_name("headline.json")
    headline_path.write_text(json.dumps(headline(result, run), indent=1) + "\n")
    greedy = result["accuracy"][KINDS[model.config.kind].greedy_key]
    log.info(
        "done in %.1f s: greedy accuracy %.3f against the majority class's %.3f -> %s, %s",
        time.perf_counter() - start,
        greedy,
        result["learning"]["majority_accuracy"],
        args.metrics,
        args.out,
    )
    log_to_mlflow(run, result, {"evaluate": args.out, "plots": args.plots, "metrics.json": args.metrics})


if __name__ == "__main__":
    main()
