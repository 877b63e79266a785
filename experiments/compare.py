"""Runs compared side by side from MLflow, as a file for a paper or a pull request: the "MLflow UI comparison".

    python -m experiments.compare --experiment musicvae-mel_16bar --out reports/compare [--tracking-uri URI]

Reads the experiment's runs with MLflow's search API into pandas and writes `compare.md` and `compare.csv` (config,
the params that differ, final metrics next to the majority-class baseline, KL bits, active units, the shuffled-code
gap, the decoder-only bound, the same for every external set (eval.external), train steps and time, sampled
accuracy per bar), `per_bar_sampled.png` (sampled accuracy of each bar, one line
a run) from the per-bar curve the evaluate stage logs as an artifact, and the learning monitor's curves of every
run, evaluated or not (a run still training, or one that a session's end stopped, is drawn as far as it got):
`learning.csv`, `learning_accuracy.png` (teacher-forced accuracy against the baseline), `learning_gap.png` (the
shuffled-code gap as a share of r_loss) and `learning_grad_z.png` (the strength of z's path, log scale).

`--keep` keeps the rows of runs already in `--out` that the store no longer holds (a study spans several stores:
each session's `mlflow.db` is its own), so the page accumulates; a run in both is taken from the store."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from lightning_modules.store import STAGE, tracking_uri
from musicvae.figures import curve_png

METRICS = {
    "eval/learning/majority_accuracy": "majority baseline",
    "eval/accuracy/teacher_forced": "teacher-forced acc",
    "eval/accuracy/sampled": "sampled acc",
    "eval/accuracy/greedy": "greedy acc",
    "eval/notes/greedy/onset_recall": "greedy onset recall",
    "eval/notes/greedy/pitch_at_onset": "greedy pitch at onsets",
    "eval/kl_bits": "KL bits",
    "eval/active_units": "active units",
    "eval/learning/gap_nats": "code gap nats",
    "eval/learning/gap_share": "code gap share",
    "eval/elbo": "ELBO",
    "eval/interpolation/latent_monotonicity": "interp. monotonicity",
    "eval/attributes/diagonal_dominance": "attr. diagonal",
    "val/r_loss": "val r_loss",
    "eval/decoder_bound/greedy_accuracy": "bound greedy acc",
    "eval/decoder_bound/greedy_pitch_at_onset": "bound pitch at onsets",
    "train_steps": "steps",
    "train_seconds": "train s",
}
# a trio's melody part as "melody_greedy"
EXTERNAL = {
    "majority_accuracy": "baseline",
    "accuracy/greedy": "greedy acc",
    "accuracy/melody_greedy": "greedy acc",
    "notes/greedy/pitch_at_onset": "greedy pitch at onsets",
    "notes/melody_greedy/pitch_at_onset": "greedy pitch at onsets",
    "decoder_bound/greedy_accuracy": "bound greedy acc",
}
PER_BAR = "evaluation/plots/accuracy_per_bar.csv"
CURVES = (
    "majority_accuracy",
    "accuracy",
    "greedy_accuracy",
    "greedy_pitch_at_onset",
    "active_units",
    "gap_nats",
    "gap_share",
    "grad_z",
    "conductor_scale",
)


def every_run(experiment: str, uri: str) -> pd.DataFrame:
    """The experiment's training runs in any state, newest first, each with the `eval/...` metrics of its latest
    evaluation run and that run's id as `eval_run_id` (a store from before evaluations had runs of their own holds
    them on the training run, which is then its own)."""
    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=[experiment], order_by=["attributes.start_time DESC"])
    is_evaluation = runs.get(f"tags.{STAGE}", pd.Series(index=runs.index, dtype=object)) == "evaluate"
    training = runs[~is_evaluation].assign(eval_run_id=runs["run_id"] if len(runs) else None)
    scores = [c for c in runs if c.startswith("metrics.eval/")]
    for _, evaluation in runs[is_evaluation].drop_duplicates(f"tags.{MLFLOW_PARENT_RUN_ID}").iterrows():
        of = training.index[training["run_id"] == evaluation[f"tags.{MLFLOW_PARENT_RUN_ID}"]]
        for row in of:  # none where the training run was deleted
            training.loc[row, scores] = evaluation[scores].to_numpy()
            training.loc[row, "eval_run_id"] = evaluation["run_id"]
    return training.reset_index(drop=True)


def evaluated(found: pd.DataFrame, experiment: str, uri: str, required: bool = True) -> pd.DataFrame:
    """Of `found`, the runs that were evaluated; none at all is an error when `required`."""
    if found.empty or "metrics.eval/accuracy/sampled" not in found:
        if not required:
            return pd.DataFrame()
        raise SystemExit(f"no evaluated run in experiment {experiment!r} at {uri}; run `dvc repro` first")
    return found[found["metrics.eval/accuracy/sampled"].notna()].reset_index(drop=True)


def table(found: pd.DataFrame, shown: tuple[str, ...] = ()) -> pd.DataFrame:
    """One row a run: name, config, the params whose values differ between runs (or that `shown` names: an earlier
    table's, whose runs this one joins), and the final metrics."""
    params = [
        c
        for c in found
        if c.startswith("params.")
        and c != "params.config"
        and (found[c].astype(str).nunique(dropna=False) > 1 or c.removeprefix("params.") in shown)
        and not c.startswith("params.data_manifest")
    ]
    out = pd.DataFrame(
        {
            "run": [_name(run) for _, run in found.iterrows()],
            "run id": found["run_id"].str[:8],
            "config": found["params.config"],
        }
    )
    for column in params:
        out[column.removeprefix("params.")] = found[column]
    for metric, label in METRICS.items():
        if f"metrics.{metric}" in found:
            out[label] = found[f"metrics.{metric}"].round(4)
    sets = sorted({c.split("/")[2] for c in found if c.startswith("metrics.eval/external/")})
    for name in sets:  # music from outside the training corpus (eval.external), beside its own baseline
        for metric, label in EXTERNAL.items():
            if f"metrics.eval/external/{name}/{metric}" in found:
                out[f"{name} {label}"] = found[f"metrics.eval/external/{name}/{metric}"].round(4)
    for tag in ("verdict", "stopped_by"):  # the train stage's, at its last validation
        if f"tags.{tag}" in found:
            out[tag.replace("_", " ")] = found[f"tags.{tag}"]
    return out


def per_bar(found: pd.DataFrame, uri: str) -> dict[str, list[float]]:
    """Sampled accuracy per bar of each run (its label: config and short id)."""
    client = mlflow.MlflowClient(uri)
    curves = {}
    for _, run in found.iterrows():
        path = client.download_artifacts(run["eval_run_id"], PER_BAR)
        with open(path) as f:
            rows = list(csv.DictReader(f))
        column = "sampled" if "sampled" in rows[0] else "melody_sampled"
        curves[_label(run)] = [float(r[column]) for r in rows]
    return curves


def learning_curves(found: pd.DataFrame, uri: str) -> pd.DataFrame:
    """The learning monitor's `monitor/...` history of each run: one row a run and validation (none for a run
    that never validated)."""
    client = mlflow.MlflowClient(uri)
    frames = []
    for _, run in found.iterrows():
        history = {
            name: {m.step: m.value for m in client.get_metric_history(run["run_id"], f"monitor/{name}")}
            for name in CURVES
        }
        steps = sorted(history["accuracy"])
        frames.append(
            pd.DataFrame(
                {"run": _label(run), "step": steps, **{k: [v.get(s) for s in steps] for k, v in history.items()}}
            )
        )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["run", "step", *CURVES])


def _name(run) -> str:
    """The DVC experiment's name when DVC ran it, else the MLflow run's (the config's)."""
    name = run.get("tags.dvc_experiment")
    return name if isinstance(name, str) and name else run["tags.mlflow.runName"]


def _label(run) -> str:
    """The run's name and short id, for figures."""
    return f"{_name(run)} ({run['run_id'][:8]})"


def _curve_rows(curves: pd.DataFrame, column: str) -> list[dict]:
    """One row a step, one column a run (NaN where a run did not validate at that step)."""
    wide = curves.pivot_table(index="step", columns="run", values=column, aggfunc="last")
    return [{"step": int(step), **{run: float(v) for run, v in row.items()}} for step, row in wide.iterrows()]


def compare(experiment: str, uri: str, out: Path, keep: bool = False) -> pd.DataFrame:
    all_runs = every_run(experiment, uri)
    earlier = out / "compare.csv" if keep and (out / "compare.csv").exists() else None
    found = evaluated(all_runs, experiment, uri, required=earlier is None)
    if found.empty:  # --keep over a store without evaluated runs: the earlier tables, drawn again
        result = pd.DataFrame(columns=["run id"])
    else:
        curves = per_bar(found, uri)  # in the runs' order
        bars = pd.DataFrame(list(curves.values())).round(4)
        bars.columns = [f"sampled bar {b + 1}" for b in bars.columns]
        shown = tuple(pd.read_csv(earlier, nrows=0).columns) if earlier else ()
        result = pd.concat([table(found, shown), bars], axis=1)
    learning = learning_curves(all_runs, uri)
    if keep:
        result, learning = _kept(out, result, learning)
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "compare.csv", index=False)
    # Markdown stays readable with the first, middle and last bar; the CSV and the plot have every bar.
    bar_columns = [c for c in result if c.startswith("sampled bar ")]
    shown = {bar_columns[0], bar_columns[len(bar_columns) // 2], bar_columns[-1]}
    columns = [c for c in result if not c.startswith("sampled bar ") or c in shown]
    (out / "compare.md").write_text(result[columns].to_markdown(index=False) + "\n")
    rows = [
        {
            "bar": b + 1,
            **{
                f"{run['run']} ({run['run id']})": run[column] if pd.notna(run[column]) else None
                for _, run in result.iterrows()
            },
        }
        for b, column in enumerate(bar_columns)
    ]
    (out / "per_bar_sampled.png").write_bytes(
        curve_png(rows, "bar", "sampled reconstruction accuracy", "Per-bar sampled accuracy")
    )
    learning.to_csv(out / "learning.csv", index=False)
    if len(learning):
        baseline = float(learning["majority_accuracy"].iloc[0])
        (out / "learning_accuracy.png").write_bytes(
            curve_png(
                [r | {"majority baseline": baseline} for r in _curve_rows(learning, "accuracy")],
                "step",
                "teacher-forced accuracy (validation)",
                "Learning: accuracy against the majority-class baseline",
            )
        )
        (out / "learning_gap.png").write_bytes(
            curve_png(
                _curve_rows(learning, "gap_share"), "step", "shuffled-code gap / r_loss", "Use of the latent code"
            )
        )
        (out / "learning_grad_z.png").write_bytes(
            curve_png(
                _curve_rows(learning, "grad_z"),
                "step",
                "mean |∂r_loss/∂z| (validation)",
                "Strength of z's path",
                log=True,
            )
        )
    return result


def _kept(out: Path, result: pd.DataFrame, learning: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's runs, then the runs of `out`'s earlier tables that the store does not hold."""
    if (out / "compare.csv").exists():
        earlier = pd.read_csv(out / "compare.csv", dtype={"run id": str})  # an id like 1234e567 is not a number
        result = pd.concat([result, earlier[~earlier["run id"].isin(result["run id"])]], ignore_index=True)
    if (out / "learning.csv").exists():
        earlier = pd.read_csv(out / "learning.csv")
        learning = pd.concat([learning, earlier[~earlier["run"].isin(learning["run"])]], ignore_index=True)
    return result, learning


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="musicvae-mel_16bar", help="MLflow experiment: musicvae-<repr.>")
    parser.add_argument("--tracking-uri", default=None, help="default: the project's mlflow.db")
    parser.add_argument("--out", default="reports/compare", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep --out's runs that the store no longer holds")
    args = parser.parse_args(argv)
    compare(args.experiment, tracking_uri(args.tracking_uri), args.out, args.keep)
    print((args.out / "compare.md").read_text(), end="")


if __name__ == "__main__":
    main()
