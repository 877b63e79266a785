#!/usr/bin/env bash
# The study of README "Results": which CPU-sized models learn, and when the hierarchical decoder uses z.
# DVC experiments on the whole embedded corpus (every 4/4 and 2/2 tune), two at a time with one thread each,
# every one logged to the project's MLflow store with its learning curves (monitor/...).
# Step budgets, not wall-clock caps, so that a busy machine changes the time and never the result; the equal
# wall-clock pairs are set from benchmarks/bench_train.py's one-thread step times (hierarchical 766 ms, flat
# 1,394 ms at batch 64: 30 idle minutes are 2,400 and 1,300 steps).
set -euo pipefail
cd "$(dirname "$0")/../.."
S="-S corpus.max_pieces=null -S train.max_minutes=100 -S eval.max_examples=null -S train.threads=1
   -S train.val_every_n_steps=200 -S +model.overrides.training.learning_rate=0.003 -S +model.overrides.batch_size=64"
dvc exp run --queue -n hier-b64-2400 $S -S train.max_steps=2400
dvc exp run --queue -n flat-b64-1300 $S -S train.max_steps=1300 -S model.config=flat-mel_16bar-cpu
dvc exp run --queue -n hier-ar-ptinit-2400 $S -S train.max_steps=2400 \
    -S +model.overrides.model.conductor_input=autoregressive -S +model.overrides.model.state_init=pytorch
dvc exp run --queue -n hier-ar-1600 $S -S train.max_steps=1600 -S +model.overrides.model.conductor_input=autoregressive
OMP_NUM_THREADS=1 dvc queue start -j 2
# when the queue is done (dvc queue status):
#   python -m experiments.compare --experiment musicvae-mel_16bar --out experiments/study/results
