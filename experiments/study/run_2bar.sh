#!/usr/bin/env bash
# Made before the data recipe (2026-12-05), when preprocess.cap_splits defaulted to [train, eval, test] and no
# config redrew its windows: to repeat a run as it ran, add -S 'preprocess.cap_splits=[train,eval,test]' to the
# capped ones, and -S '+model.overrides.data.resample=false' to those that set cap_splits [eval, test].
# The 2-bar study of docs/results.md: what makes the CPU-sized 2-bar melody model learn, and the default it chose.
# DVC experiments on the whole embedded corpus, two at a time with one thread each, logged to the project's MLflow
# store (experiment musicvae-mel_2bar) with their learning curves. (The recorded runs were made with these params
# by calling the train and evaluate stages directly.)
set -euo pipefail
cd "$(dirname "$0")/../.."
S="-S train.threads=1 -S train.max_minutes=100 -S eval.max_examples=null"
O=+model.overrides
dvc exp run --queue -n mel2-scheduled-sampling $S -S model.config=cat-mel_2bar_small-cpu -S train.max_steps=2000
dvc exp run --queue -n mel2-big-scheduled-sampling $S -S model.config=cat-mel_2bar_big-cpu -S train.max_steps=2000
dvc exp run --queue -n mel2-tf-lr1e-3 $S -S train.max_steps=3000 -S $O.training.learning_rate=0.001
dvc exp run --queue -n mel2-tf-lr3e-3 $S -S train.max_steps=3000
dvc exp run --queue -n mel2-lr6e-3 $S -S train.max_steps=2000 -S $O.training.learning_rate=0.006
dvc exp run --queue -n mel2-b128-lr4e-3 $S -S train.max_steps=1200 -S $O.training.learning_rate=0.0042 \
    -S $O.batch_size=128
dvc exp run --queue -n mel2-tf-lr5e-4-b32 $S -S train.max_steps=2000 -S $O.training.learning_rate=0.0005 \
    -S $O.batch_size=32
OMP_NUM_THREADS=1 dvc queue start -j 2
# when `dvc queue status` shows them done:
#   python -m experiments.compare --experiment musicvae-mel_2bar --out experiments/study/mel_2bar
