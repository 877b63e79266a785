"""The headline numbers of a run, the only metrics DVC shows (`dvc metrics show`, `dvc exp show`): how well the
model reconstructs its test split beside the majority-class baseline, rhythm against pitch, whether it uses z, what
its decoder alone can express, how it does on music from outside its corpus, and what training cost. Everything
else stays in reports/metrics.json and MLflow."""

from __future__ import annotations


def _notes(scores: dict) -> dict:
    """For melodic parts decoded greedily, the onsets found and the right pitch on them (rhythm against pitch); a
    trio's keys carry its part (melody_greedy_..., bass_greedy_...)."""
    found = {}
    for mode, notes in scores["notes"].items():
        if mode.endswith("greedy"):
            found |= {f"{mode}_onset_recall": notes["onset_recall"], f"{mode}_pitch_at_onset": notes["pitch_at_onset"]}
    return found


def headline(metrics: dict, run: dict) -> dict:
    """From the evaluate stage's metrics and the train stage's run record (models/run.json)."""
    bound = metrics["decoder_bound"] or {}  # none when eval.decoder_bound.windows is 0
    numbers = {
        "accuracy": metrics["accuracy"],
        "majority_accuracy": metrics["learning"]["majority_accuracy"],
        "verdict": metrics["learning"]["verdict"],
        "notes": _notes(metrics),
        "kl_bits": metrics["kl_bits"],
        "active_units": metrics["active_units"],
        "shuffled_code_gap_nats": metrics["learning"]["gap_nats"],  # what decoding another window's z costs
        "decoder_bound": bound.get("greedy_accuracy"),
        # what a better reconstruction may cost the prior's samples; none for drums, whose attributes are not melodic
        "samples_attribute_overlap": metrics.get("samples", {}).get("attribute_overlap", {}).get("mean"),
        "external": {
            name: {
                **{mode: value for mode, value in scores["accuracy"].items() if mode.endswith("greedy")},
                **_notes(scores),
                "majority_accuracy": scores["majority_accuracy"],
            }
            for name, scores in metrics["external"].items()
        },
        "train": {"steps": run.get("steps"), "minutes": round(run.get("train_seconds", 0) / 60, 1)},
    }
    return _rounded(numbers)


def _rounded(value):
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return round(value, 4) if isinstance(value, float) else value
