#!/usr/bin/env bash
# The study's GPU runs (docs/results.md, 16 bars): the best hierarchical recipe against the flat model, both at
# batch 64 with the CPU study's settings on every training window, on one GPU at the same time for the same
# wall-clock minutes, then the evaluate stage on the whole test split. These are the train and evaluate stages' own
# commands with params.yaml's values and docs/training.md's GPU overrides, for a machine without DVC (the lent one had
# none); where DVC is, docs/training.md's `dvc exp run` commands are the same runs, one after the other.
#   SHARDS=FOLDER experiments/study/run_gpu.sh STORE [MINUTES] [ACCELERATOR]
# SHARDS: the preprocess stage's output with preprocess.cap_splits [eval, test] (every training window), e.g.
#   python -m pipelines.preprocess --input data/corpus/index.csv --output FOLDER --report FOLDER.json --params P
# with P a copy of params.yaml that says so. STORE: a folder for the MLflow store (STORE/mlflow.db) and each run's
# reports; `python -m experiments.compare --tracking-uri sqlite:///STORE/mlflow.db --keep ...` adds the runs to the
# results page. On CPUs: ACCELERATOR cpu, THREADS=1 (each run's threads, 4 by default), EXTERNAL='{jazz: /path}'
# (held-out collections for the evaluate stage) and BOUND_WINDOWS (the decoder-only bound's windows, fewer on CPUs:
# 300 Adam steps over 256 16-bar windows take most of an hour on one thread). PRECISION (32-true by default, as the
# folk-corpus study) and DATA (the data recipe, by default every training window every epoch, untransposed; e.g.
# '{transpose: [-5, 5], resample: true}' for Magenta's) give the 2-bar study's winning recipe to both runs.
set -euo pipefail
store="$(realpath -m "${1:?STORE folder}")" minutes="${2:-5}" accelerator="${3:-gpu}"
shards="$(realpath -m "${SHARDS:?the mel_16bar shards of every training window}")"
cd "$(dirname "$0")/../.."
runs="hier-ar-headinit-gpu flat-gpu"
threads="${THREADS:-4}"
python3 - "$store" "$minutes" "$accelerator" "$shards" "$threads" "${EXTERNAL:-{\}}" "${BOUND_WINDOWS:-256}" \
    "${PRECISION:-32-true}" "${DATA:-{resample: false\}}" <<'EOF'
import json, sys, yaml
from pathlib import Path
store, minutes, accelerator, shards = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
threads, external, bound_windows = int(sys.argv[5]), yaml.safe_load(sys.argv[6]), int(sys.argv[7])
precision, data = sys.argv[8], yaml.safe_load(sys.argv[9])
# a manifest names cap_splits only when it is not Magenta's, every split
capped = json.loads((shards / "mel_16bar" / "manifest.json").read_text())["config"].get("cap_splits",
                                                                                       ["train", "eval", "test"])
if capped != ["eval", "test"]:
    sys.exit(f"run_gpu.sh: {shards} caps the windows of {capped}; these runs train on every training window "
             "(preprocess.cap_splits [eval, test])")
models = {"hier-ar-headinit-gpu": "hierdec-mel_16bar-ar-b64-cpu", "flat-gpu": "flat-mel_16bar-b64-cpu"}
for name, config in models.items():
    params = yaml.safe_load(Path("params.yaml").read_text())
    params["preprocess"]["cap_splits"] = capped
    params["model"] = {"config": config, "overrides": {"data": data}}
    # on a GPU, 4 threads each for the learning monitor's measures, which stay on the CPU
    params["train"] |= {"accelerator": accelerator, "devices": 1, "max_steps": 20000, "max_minutes": minutes,
                        "val_every_n_steps": 500, "precision": precision, "threads": threads}
    params["eval"]["external"] = external
    params["eval"]["decoder_bound"]["windows"] = bound_windows
    params["mlflow"]["tracking_uri"] = f"sqlite:///{store}/mlflow.db"
    (store / name).mkdir(parents=True, exist_ok=True)
    (store / name / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
EOF

stage() {  # run, stage, its arguments: the stage's log in the run's folder; exec, so that a kill reaches python
  local run="$1" stage="$2"; shift 2
  DVC_EXP_NAME="$run" exec python3 -m "lightning_modules.$stage" --params "$store/$run/params.yaml" \
      --shards "$shards" "$@" > "$store/$run/$stage.log" 2>&1
}
train() {
  stage "$1" train --out "$store/$1/models" --report "$store/$1/train.json" --curves "$store/$1/learning.csv"
}
evaluate() {
  OMP_NUM_THREADS=$((threads * 2)) stage "$1" evaluate --model "$store/$1/models" --out "$store/$1/evaluate" \
      --metrics "$store/$1/metrics.json" --plots "$store/$1/plots"
}
pids=()
trap 'kill "${pids[@]}" 2>/dev/null' INT TERM
together() {  # a function of a run, for both runs at once; the first to fail stops the other
  local run failed=0
  pids=()
  for run in $runs; do "$1" "$run" & pids+=($!); done
  for _ in $runs; do
    if ! wait -n; then failed=1; kill "${pids[@]}" 2>/dev/null || true; break; fi
  done
  wait || true
  for run in $runs; do echo "== $run $1"; tail -n 4 "$store/$run/$1.log"; done
  return $failed
}
together train
together evaluate
