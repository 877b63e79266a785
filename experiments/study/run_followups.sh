#!/usr/bin/env bash
# Made before the data recipe (2026-12-05), when preprocess.cap_splits defaulted to [train, eval, test] and no
# config redrew its windows: to repeat a run as it ran, add -S 'preprocess.cap_splits=[train,eval,test]' to the
# capped ones, and -S '+model.overrides.data.resample=false' to those that set cap_splits [eval, test].
# The study's follow-up runs (docs/results.md, 16 bars), queued like run.sh's: DVC experiments on the whole embedded
# corpus, one thread each, two at a time, logged to the project's MLflow store. Each session's store is its own, so
#   python -m experiments.compare --experiment musicvae-mel_16bar --out experiments/study/results --keep
# adds a session's runs to the results page and keeps the earlier ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
S="-S corpus.max_pieces=null -S train.max_minutes=300 -S eval.max_examples=null -S train.threads=1
   -S train.val_every_n_steps=200"
H="-S model.config=hierdec-mel_16bar-b64-cpu"
AR="-S +model.overrides.model.conductor_input=autoregressive -S +model.overrides.model.state_init=pytorch"
case "${1:-}" in
  earlier)  # 2026-11-30: free bits at the paper's rate per dimension; every training window
    dvc exp run --queue -n flat-b64-fb32-1300 $S -S model.config=flat-mel_16bar-b64-cpu -S train.max_steps=1300 \
        -S +model.overrides.training.free_bits=32
    dvc exp run --queue -n hier-ar-ptinit-uncapped-2400 $S $H $AR -S train.max_steps=2400 \
        -S 'preprocess.cap_splits=[eval,test]' ;;
  longer)  # equal decoder widths to the end of the budget, and twice the budget on every training window: at
            # 2.4 and 5.7 s a step on 2026-12-03's busy machine these need 3 hours each
    dvc exp run --queue -n hier-ar-ptinit-w256-1300 $S $H $AR -S train.max_steps=1300 \
        -S '+model.overrides.model.dec_rnn_size=[256,256]'
    dvc exp run --queue -n hier-ar-ptinit-uncapped-4800 $S $H $AR -S train.max_steps=4800 \
        -S 'preprocess.cap_splits=[eval,test]' ;;
  resumable)  # 2026-12-03: each run in a clone of its own beside the project, outside DVC's queue, whose
               # temporary copies vanish with a killed run. Run this again with the clones still there and each killed
               # run resumes from its models/last.ckpt, in the same MLflow run. `resumable seeds`: the flat model's
               # seeds 1 and 2 (seed 0 is run.sh's flat-b64-1300); `resumable hierseed [SEEDS]`: the best
               # hierarchical recipe's seeds (2 by default); `resumable wide`, `resumable longer`: the mu head's
               # run at the flat decoder's width (2-3 hours on the AVX2 host) and for 4,800 steps (about 4 hours);
               # `resumable decay`: the mu head's run with its learning rate decayed tenfold by step 2,400.
    project="$(pwd)"
    runs="$project/../runs" store="sqlite:///$project/mlflow.db"
    C="-S corpus.max_pieces=null -S train.max_minutes=null -S eval.max_examples=null -S train.threads=1
       -S train.val_every_n_steps=200 -S mlflow.tracking_uri=$store"
    # ++ sets a key whether or not the clone's params.yaml holds it already
    HEADINIT="$H -S ++model.overrides.model.conductor_input=autoregressive -S ++model.overrides.model.state_init=pytorch
          -S ++model.overrides.model.head_init=pytorch"
    start() {  # name, then its own overrides
      local dir="$runs/${1#hier-ar-}"
      if [ -e "$dir/models/run.json" ]; then  # a run started there: its params.yaml holds the overrides
        # `dvc repro`, not `dvc exp run`: exp run first checks the workspace out by force, and that deletes models/
        # (the persisted last.ckpt) before the train stage can resume from it. The clone's params.yaml is the run's.
        # DVC_EXP_NAME tags the MLflow run with the experiment's name, as exp run would, should it start afresh.
        (cd "$dir" && DVC_EXP_NAME="$1" OMP_NUM_THREADS=1 setsid nohup dvc repro >> run.log 2>&1 &)
      else
        rm -rf "$dir"  # a clone whose run never started
        git clone -q . "$dir" || return 1
        (cd "$dir" && dvc cache dir --local "$project/.dvc/cache") || return 1
        (cd "$dir" && OMP_NUM_THREADS=1 setsid nohup dvc exp run -n "$@" > run.log 2>&1 &)
      fi
    }
    case "${2:-}" in
      seeds)
        for seed in 1 2; do
          start flat-b64-seed$seed-1300 $C -S model.config=flat-mel_16bar-b64-cpu -S train.max_steps=1300 \
              -S train.seed=$seed
        done ;;
      wide)
        start hier-ar-headinit-w256-1300 $C $HEADINIT -S train.max_steps=1300 \
            -S '++model.overrides.model.dec_rnn_size=[256,256]' ;;
      hierseed)  # the best hierarchical recipe with the seeds given, 2 by default (seed 1 is
                 # hier-ar-headinit-seed1-2400; seed 0 first ran as hier-ar-ptinit-headinit-2400, stopped at 1,800)
        for seed in ${3:-2}; do
          start hier-ar-headinit-seed$seed-2400 $C $HEADINIT -S train.max_steps=2400 -S train.seed=$seed
        done ;;
      decay)  # the plateau near 0.71 at lr 3e-3 (docs/results.md): lr decayed tenfold within the budget
        start hier-ar-headinit-decay999-2400 $C $HEADINIT -S train.max_steps=2400 \
            -S ++model.overrides.training.decay_rate=0.999 ;;
      longer)
        start hier-ar-headinit-uncapped-4800 $C $HEADINIT -S train.max_steps=4800 \
            -S 'preprocess.cap_splits=[eval,test]' ;;
      *) echo "resumable seeds|hierseed [SEEDS]|wide|decay|longer" >&2; exit 2 ;;
    esac
    exit ;;
  *)  # 2026-12-03: the state projections' initialisation without the autoregressive conductor; the mu head's
    dvc exp run --queue -n hier-ptinit-2400 $S $H -S train.max_steps=2400 \
        -S +model.overrides.model.state_init=pytorch
    dvc exp run --queue -n hier-ar-ptinit-headinit-2400 $S $H $AR -S train.max_steps=2400 \
        -S +model.overrides.model.head_init=pytorch ;;
esac
OMP_NUM_THREADS=1 dvc queue start -j 2
