"""Runs compared side by side from MLflow, as a file for a paper or a pull request: the "MLflow UI comparison".

    python -m experiments.compare --experiment musicvae-mel_16bar --out reports/compare [--tracking-uri URI]

Reads the experiment's runs with MLflow's search API into pandas and writes `compare.md` and `compare.csv` (config,
the params that differ, final metrics, KL bits, active units, train time, sampled accuracy per bar) and
`per_bar_sampled.png` (sampled accuracy of each bar, one line a run), from the per-bar curve the evaluate stage logs
as an artifact."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import mlflow
import pandas as pd

from lightning_modules.store import tracking_uri
from musicvae.figures import curve_png

METRICS = {"eval/accuracy/teacher_forced": "teacher-forced acc", "eval/accuracy/sampled": "sampled acc",
           "eval/accuracy/greedy": "greedy acc", "eval/kl_bits": "KL bits", "eval/active_units": "active units",
           "eval/elbo": "ELBO", "eval/interpolation/latent_monotonicity": "interp. monotonicity",
           "val/loss": "val loss", "train_seconds": "train s"}
PER_BAR = "evaluation/plots/accuracy_per_bar.csv"


def runs(experiment: str, uri: str) -> pd.DataFrame:
    """Finished runs that were evaluated, newest first."""
    mlflow.set_tracking_uri(uri)
    found = mlflow.search_runs(experiment_names=[experiment], order_by=["attributes.start_time DESC"])
    if found.empty or "metrics.eval/accuracy/sampled" not in found:
        raise SystemExit(f"no evaluated run in experiment {experiment!r} at {uri}; run `dvc repro` first")
    return found[found["metrics.eval/accuracy/sampled"].notna()].reset_index(drop=True)


def table(found: pd.DataFrame) -> pd.DataFrame:
    """One row a run: name, config, the params whose values differ between runs, and the final metrics."""
    params = [c for c in found if c.startswith("params.") and c != "params.config"
              and found[c].astype(str).nunique(dropna=False) > 1 and not c.startswith("params.data_manifest")]
    out = pd.DataFrame({"run": found["tags.mlflow.runName"], "run id": found["run_id"].str[:8],
                        "config": found["params.config"]})
    for column in params:
        out[column.removeprefix("params.")] = found[column]
    for metric, label in METRICS.items():
        if f"metrics.{metric}" in found:
            out[label] = found[f"metrics.{metric}"].round(4)
    return out


def per_bar(found: pd.DataFrame, uri: str) -> dict[str, list[float]]:
    """Sampled accuracy per bar of each run (its label: config and short id)."""
    client = mlflow.MlflowClient(uri)
    curves = {}
    for _, run in found.iterrows():
        path = client.download_artifacts(run["run_id"], PER_BAR)
        with open(path) as f:
            rows = list(csv.DictReader(f))
        column = "sampled" if "sampled" in rows[0] else "melody_sampled"
        curves[f"{run['params.config']} ({run['run_id'][:8]})"] = [float(r[column]) for r in rows]
    return curves


def compare(experiment: str, uri: str, out: Path) -> pd.DataFrame:
    found = runs(experiment, uri)
    curves = per_bar(found, uri)  # in the runs' order
    bars = pd.DataFrame(list(curves.values())).round(4)
    bars.columns = [f"sampled bar {b + 1}" for b in bars.columns]
    result = pd.concat([table(found), bars], axis=1)
    out.mkdir(parents=True, exist_ok=True)
    result.to_csv(out / "compare.csv", index=False)
    # Markdown stays readable with the first, middle and last bar; the CSV and the plot have every bar.
    shown = {bars.columns[0], bars.columns[len(bars.columns) // 2], bars.columns[-1]}
    columns = [c for c in result if not c.startswith("sampled bar ") or c in shown]
    (out / "compare.md").write_text(result[columns].to_markdown(index=False) + "\n")
    rows = [{"bar": b + 1, **{label: values[b] for label, values in curves.items()}}
            for b in range(max(map(len, curves.values())))]
    (out / "per_bar_sampled.png").write_bytes(curve_png(rows, "bar", "sampled reconstruction accuracy",
                                                        "Per-bar sampled accuracy"))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="musicvae-mel_16bar", help="MLflow experiment: musicvae-<repr.>")
    parser.add_argument("--tracking-uri", default=None, help="default: the project's mlflow.db")
    parser.add_argument("--out", default="reports/compare", type=Path)
    args = parser.parse_args(argv)
    compare(args.experiment, tracking_uri(args.tracking_uri), args.out)
    print((args.out / "compare.md").read_text(), end="")


if __name__ == "__main__":
    main()
