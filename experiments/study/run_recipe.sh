#!/usr/bin/env bash
# The generalization study (docs/results.md): the default 2-bar config trained on a corpus of several collections,
# with and without Magenta's data recipe, one thread each, for the same wall-clock minutes; then the evaluate stage
# on the test split and on the held-out collections named in EXTERNAL.
#   SHARDS=FOLDER EXTERNAL='{jazz: /path/jazz}' [STEPS=N] experiments/study/run_recipe.sh STORE [MINUTES] [RUN...]
# SHARDS: the preprocess stage's output (for the runs that resample, with preprocess.cap_splits [eval, test]: every
# training window), from a corpus whose corpus.sources leave the EXTERNAL collections out. STORE: a folder for the
# MLflow store (STORE/mlflow.db) and each run's reports. STEPS: a step budget besides the minutes. RUN: any of the
# runs below (default: recipe plain), or one of them under another seed as NAME-seedN (e.g. b32-seed1).
set -euo pipefail
store="$(realpath -m "${1:?STORE folder}")" minutes="${2:-60}"
shift $(($# > 1 ? 2 : 1))
runs="${*:-recipe plain}"
shards="$(realpath -m "${SHARDS:?the mel_2bar shards of every training window}")"
cd "$(dirname "$0")/../.."
python3 - "$store" "$minutes" "$shards" "${EXTERNAL:-{\}}" "${STEPS:-null}" $runs <<'EOF'
import re, sys, yaml
from pathlib import Path
store, minutes, shards, external, steps = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
runs = sys.argv[6:]
recipes = {  # each ingredient alone against the whole recipe: named configs, train settings, model overrides
    "recipe": ("cat-mel_2bar_small-tf-recipe-cpu", {}, {}),
    "plain": ("cat-mel_2bar_small-tf-cpu", {}, {}),
    "transpose": ("cat-mel_2bar_small-tf-transpose-cpu", {}, {}),
    "resample": ("cat-mel_2bar_small-tf-resample-cpu", {}, {}),
    # bf16 autocast against fp32 on the same host; larger batches train no more windows a second on a CPU
    # (benchmarks/bench_train.py), so both keep batch 64
    "recipe-fp32": ("cat-mel_2bar_small-tf-recipe-cpu", {"precision": "32-true"}, {}),
    "recipe-bf16": ("cat-mel_2bar_small-tf-recipe-cpu", {"precision": "bf16-mixed"}, {}),
    # Magenta's own z and encoder sizes (its released decoder's bound uses z 256), at the cost of slower steps
    "recipe-bf16-z256": ("cat-mel_2bar_small-tf-recipe-cpu", {"precision": "bf16-mixed"},
                         {"model": {"z_size": 256, "enc_rnn_size": [512]}}),
    # Magenta's learning-rate decay (0.9999 a step) leaves 8 % of the rate at 25,000 steps, where jazz still rises
    # slowly: the same run with a rate that decays half as fast
    "recipe-bf16-slowdecay": ("cat-mel_2bar_small-tf-recipe-cpu", {"precision": "bf16-mixed"},
                              {"training": {"decay_rate": 0.99995}}),
    # Less pressure toward the prior (Magenta's max β 0.2): does a code that carries more bits reconstruct music from
    # outside the corpus better at equal time, and what does it cost the prior's samples?
    "recipe-bf16-beta05": ("cat-mel_2bar_small-tf-recipe-cpu", {"precision": "bf16-mixed"},
                           {"training": {"max_beta": 0.05}}),
    "recipe-bf16-beta01": ("cat-mel_2bar_small-tf-recipe-beta01-cpu", {"precision": "bf16-mixed"}, {}),
    # Magenta's own β schedule (0.2 · (1 − 0.99999^step): 0.006 at 3,000 steps, 0.028 at 15,000) where the -cpu
    # configs run it 100 times faster (full β by 3,000 steps), for runs of minutes
    "recipe-bf16-magentabeta": ("cat-mel_2bar_small-tf-recipe-cpu", {"precision": "bf16-mixed"},
                                {"training": {"beta_rate": 0.99999}}),
    # The earlier default (batch 64, 3,000 steps) on the folk tunes in 4/4 and 2/2 (the shards of corpus.meters
    # [4/4, 2/2], corpus.rebar {}; STEPS=3000), and with levers that are not Magenta's, each against one way it fails
    # on POP909: windows delayed by 0..3 or 0..1 sixteenths, a quarter of them staccato, transposed down to an octave,
    # the decoder's previous tokens hidden a quarter of the time
    "default": ("cat-mel_2bar_small-tf-transpose-magentabeta-cpu", {}, {}),
    "default-displace": ("cat-mel_2bar_small-tf-transpose-magentabeta-displace-cpu", {}, {}),
    "default-displace01": ("cat-mel_2bar_small-tf-transpose-magentabeta-displace-cpu", {},
                           {"data": {"displace": [0, 1]}}),
    "default-staccato": ("cat-mel_2bar_small-tf-transpose-magentabeta-staccato-cpu", {}, {}),
    "default-transpose-12-5": ("cat-mel_2bar_small-tf-transpose-magentabeta-cpu", {},
                               {"data": {"transpose": [-12, 5]}}),
    "default-worddrop": ("cat-mel_2bar_small-tf-transpose-magentabeta-cpu", {}, {"model": {"word_dropout": 0.25}}),
    # The earlier default, once the tunebooks' 2/4 tunes joined its corpus (SHARDS=data/shards, STEPS=5000): batch
    # 32, whose step costs 0.57 of a batch-64 one here; then batch 16 (0.6 of batch 32) at 8,500 steps, a learning
    # rate that decays 0.9995 a step (to 0.08 of itself by step 5,000) instead of Magenta's 0.9999 (0.61), and lr 5e-3
    "b32": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-cpu", {}, {}),
    "b16": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-cpu", {"max_steps": 8500}, {"batch_size": 16}),
    "b32-anneal": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-cpu", {}, {"training": {"decay_rate": 0.9995}}),
    "b32-lr5": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-cpu", {}, {"training": {"learning_rate": 0.005}}),
    # Magenta's caps drawn afresh each epoch, on shards of every training window (preprocess.cap_splits [eval, test])
    "b32-resample": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-cpu", {}, {"data": {"resample": True}}),
    # The default (SHARDS=data/shards): narrower LSTMs (an encoder of 128 units a direction, a decoder of two 128-unit
    # layers), whose step costs about 0.4 of b32's here, for 10,000 steps; then its decoder at 192 units, 8,500 steps
    "narrow": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-narrow-cpu", {"max_steps": 10000}, {}),
    "narrow-d192": ("cat-mel_2bar_small-tf-transpose-magentabeta-b32-narrow-cpu", {"max_steps": 8500},
                    {"model": {"dec_rnn_size": [192, 192]}}),
}
for name in runs:
    params = yaml.safe_load(Path("params.yaml").read_text())
    recipe, seed = re.fullmatch(r"(.+?)(?:-seed(\d+))?", name).groups()
    config, settings, overrides = recipes[recipe]
    settings = settings | ({"seed": int(seed)} if seed else {})
    params["model"] = {"config": config, "overrides": overrides}
    params["train"] |= {"max_steps": yaml.safe_load(steps), "max_minutes": minutes, "val_every_n_steps": 1000,
                        "threads": 1} | settings
    params["eval"]["external"] = yaml.safe_load(external)
    params["mlflow"]["tracking_uri"] = f"sqlite:///{store}/mlflow.db"
    (store / name).mkdir(parents=True, exist_ok=True)
    (store / name / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
EOF

stage() {  # run, stage, its arguments: the stage's log in the run's folder
  local run="$1" stage="$2"; shift 2
  DVC_EXP_NAME="$run" OMP_NUM_THREADS=1 python3 -m "lightning_modules.$stage" \
      --params "$store/$run/params.yaml" --shards "$shards" "$@" > "$store/$run/$stage.log" 2>&1
}
train() {
  stage "$1" train --out "$store/$1/models" --report "$store/$1/train.json" --curves "$store/$1/learning.csv"
}
evaluate() {
  stage "$1" evaluate --model "$store/$1/models" --out "$store/$1/evaluate" --metrics "$store/$1/metrics.json" \
      --plots "$store/$1/plots"
}
for run in $runs; do (train "$run" && evaluate "$run") & done
wait
