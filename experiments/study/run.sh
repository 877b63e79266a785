#!/usr/bin/env bash
# Made before the data recipe (2026-12-05), when preprocess.cap_splits defaulted to [train, eval, test] and no
# config redrew its windows: to repeat a run as it ran, add -S 'preprocess.cap_splits=[train,eval,test]' to the
# capped ones, and -S '+model.overrides.data.resample=false' to those that set cap_splits [eval, test].
# The study of docs/results.md: which CPU-sized models learn, and when the hierarchical decoder uses z.
# DVC experiments on the whole embedded corpus (every 4/4 and 2/2 tune), two at a time with one thread each, each
# logged to the project's MLflow store with its learning curves (monitor/...).
# Step budgets, not wall-clock caps, so that a busy machine changes the time and never the result: 30 idle minutes
# of one thread at batch 64 are 2,400 hierarchical steps (766 ms each; the autoregressive conductor costs the same)
# and 1,300 flat ones (1,394 ms), so each hierarchical run compares with the flat one at equal wall-clock time.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The runs were made as the -cpu configs with +model.overrides.training.learning_rate=0.003 and
# +model.overrides.batch_size=64, which the -b64-cpu configs now name.
S="-S corpus.max_pieces=null -S train.max_minutes=100 -S eval.max_examples=null -S train.threads=1
   -S train.val_every_n_steps=200"
H="-S model.config=hierdec-mel_16bar-b64-cpu -S train.max_steps=2400"
dvc exp run --queue -n hier-b64-2400 $S $H
dvc exp run --queue -n flat-b64-1300 $S -S model.config=flat-mel_16bar-b64-cpu -S train.max_steps=1300
dvc exp run --queue -n hier-ar-ptinit-2400 $S $H \
    -S +model.overrides.model.conductor_input=autoregressive -S +model.overrides.model.state_init=pytorch
dvc exp run --queue -n hier-ar-1600 $S -S model.config=hierdec-mel_16bar-b64-cpu -S train.max_steps=1600 \
    -S +model.overrides.model.conductor_input=autoregressive
OMP_NUM_THREADS=1 dvc queue start -j 2
# when `dvc queue status` shows them done:
#   python -m experiments.compare --experiment musicvae-mel_16bar --out experiments/study/results
