"""`musicvae report`: the essentials of a finished `dvc repro` in 80 columns, from the files its stages write:
metrics.json (the evaluate stage: the test split, external sets), train.json (the train stage's run record) and
preprocess.json (the windows of every representation). The full numbers stay in those files, `dvc metrics show`
and MLflow."""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path

from musicvae import learning
from musicvae.reasons import WORDS, UsageError, commonest

WIDTH = 80
RERUN = "run `dvc repro` (or `make run`), whose stages write it"
MODES = ("teacher_forced", "sampled", "greedy")
STOPPED_BY = {
    "max_steps": "its step budget (train.max_steps)",
    "max_minutes": "the wall-clock cap (train.max_minutes)",
    "end": "the end of its data",
}


def _wrapped(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _test(metrics: dict) -> list[str]:
    learned = metrics["learning"]
    lines = [
        f"Test split, {metrics['test_windows']} windows: {learned['verdict'].upper()}",
        *_wrapped(learning.explain(learned["verdict"]) + "."),
        f"  {'accuracy':<26}{'teacher-forced':>16}{'sampled':>10}{'greedy':>10}",
    ]
    accuracy = metrics["accuracy"]
    for part in dict.fromkeys(
        key.removesuffix(mode).rstrip("_") for key in accuracy for mode in MODES if key.endswith(mode)
    ):  # trio models have one row per part, the others one
        row = [accuracy[f"{part}_{mode}" if part else mode] for mode in MODES]
        lines.append(f"    {part or 'all steps':<24}" + "".join(f"{v:>{w}.3f}" for v, w in zip(row, (16, 10, 10))))
    lines.append(
        f"    {'majority-class baseline':<24}{learned['majority_accuracy']:>16.3f}  (always the commonest token)"
    )
    empty = {name: n for name, n in metrics["empty_outputs"].items() if n}
    if "samples" in metrics:  # melodic models: what a better reconstruction may cost the prior's samples
        realism = metrics["samples"]
        lines.append(
            f"  {'samples like the data':<26}{realism['attribute_overlap']['mean']:.2f} attribute overlap "
            f"(real windows {realism['ceiling']:.2f})"
        )
    lines += [
        f"  {'active units':<26}{metrics['active_units']} of {metrics['z_size']} latent dimensions",
        f"  {'shuffled-code gap':<26}{learned['gap_nats']:.1f} nats, {100 * learned['gap_share']:.1f} % of the "
        "reconstruction loss",
        f"  {'outputs without a note':<26}" + (", ".join(f"{n} {name}" for name, n in empty.items()) or "none"),
    ]
    return lines


def _greedy(scored: dict) -> tuple[float, float | None]:
    """Greedy accuracy and pitch at onsets (of the melody, for a trio; none for drums)."""
    key = "greedy" if "greedy" in scored["accuracy"] else "melody_greedy"
    return scored["accuracy"][key], scored["notes"].get(key, {}).get("pitch_at_onset")


def _generalization(metrics: dict) -> list[str]:
    """The test split and each external set side by side: greedy against the baseline, and the decoder-only bound
    (z fitted per window), which tells an encoder that fails from a decoder that cannot express the music."""
    if "external" not in metrics:
        return ["Generalization: not measured (metrics.json is older than eval.external); rerun the evaluate stage"]
    rows = {
        "test split": {**metrics, "majority_accuracy": metrics["learning"]["majority_accuracy"]},
        **metrics["external"],
    }
    lines = [
        "Generalization (greedy decoding; bound: z fitted per window, decoder alone)",
        f"  {'':<16}{'windows':>8}{'baseline':>10}{'greedy':>8}{'pitch@onset':>13}{'bound':>7}{'pitch@onset':>13}",
    ]
    pitch = lambda v: f"{v:>13.2f}" if v is not None else f"{'-':>13}"  # noqa: E731
    for name, scored in rows.items():
        greedy, at_onset = _greedy(scored)
        fit = scored["decoder_bound"] or {}  # none when eval.decoder_bound.windows is 0
        bound = f"{fit['greedy_accuracy']:>7.3f}" if fit else f"{'-':>7}"
        lines.append(
            f"  {name[:15]:<16}{scored['test_windows']:>8}{scored['majority_accuracy']:>10.3f}"
            f"{greedy:>8.3f}{pitch(at_onset)}{bound}{pitch(fit.get('greedy_pitch_at_onset'))}"
        )
    if not metrics["external"]:
        lines += _wrapped("no music from outside the training corpus: name some with -S 'eval.external={name: folder}'")
    return lines


def _training(record: dict) -> list[str]:
    text = f"Training: {record['config']}, {record['steps']} steps, stopped by {STOPPED_BY[record['stopped_by']]}"
    last = record.get("learning")  # none only when no step was trained
    verdict = f"; measured at step {last['step']}: {last['verdict']}" if last else "; nothing trained"
    return _wrapped(text + verdict, "")


def _windows(preprocess: dict) -> list[str]:
    lines = [f"Windows per representation{'train':>12}{'eval':>8}{'test':>8}   files with windows"]
    for name, stats in preprocess.items():
        splits = stats["splits"]
        lines.append(
            f"  {name:<24}"
            + "".join(f"{splits[s]['windows']:>{w}}" for s, w in (("train", 12), ("eval", 8), ("test", 8)))
            + f"   {stats['files_with_windows']} of {stats['files']}"
        )
        if not stats["files_with_windows"]:
            code = commonest(Counter(stats["reasons"]))
            lines += _wrapped(f"mostly: {WORDS[code]} [{code}]", "    ")
    return lines


def _load(path: Path) -> dict:
    if not path.is_file():
        raise UsageError(path, "no such report: the pipeline has not written it yet", "no_report", RERUN)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UsageError(path, f"not a report ({e})", "bad_report", RERUN) from None


def summary(folder: Path) -> str:
    """The report, or a UsageError naming the first file that is missing or unreadable."""
    lines = []
    for name, section in (
        ("metrics.json", _test),
        ("metrics.json", _generalization),
        ("train.json", _training),
        ("preprocess.json", _windows),
    ):
        data = _load(folder / name)
        try:
            lines += [*section(data), ""]
        except KeyError as e:
            raise UsageError(
                folder / name, f"no {e} in it: another version of the pipeline wrote it", "old_report", RERUN
            ) from None
    return "\n".join(lines).rstrip()
