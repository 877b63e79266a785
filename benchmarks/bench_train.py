"""Training performance: parameter counts, step time against a naive port, peak memory, the heap, MLflow cost,
loader wait.

    python benchmarks/bench_train.py [--quick]

1. Parameters of every experiment config against Magenta's (configs.py's CONFIG_MAP), counted on the meta device.
2. A training step (teacher-forced forward, ELBO, backward, clip, Adam) at batch size on random tokens, ours in fp32
   and under bf16 autocast (train.precision bf16-mixed) against a naive port written here: our weights (the losses
   must agree), but the conductor and decoders stepped token by token through nn.LSTMCell stacks in Python, as
   TF1 → PyTorch ports do. Medians after two warm-up steps, the three in turns, at one thread (a study run beside
   another) and at torch's default threads; tokens/s counts the steps of the batch's windows. Both models do the
   same arithmetic, so their FLOP/s are set against this machine's matmul peak. Peak RSS is that of a fresh
   process.
3. The heap (lightning_modules/allocator.py): the study's batch-64 configs at one thread, each step timed in fresh
   processes with glibc's default malloc and with keep_freed_memory as train() sets it, in turns: step time, kernel
   time and minor page faults a step, peak RSS.
4. lightning_modules.train.train for 40 steps on mel_16bar shards made from ../shared/midi (cached in the temp folder),
   logging to a local `mlflow server` and to SQLite, against its Trainer without a logger: best of 3, interleaved so
   that drifting machine load hits all alike. The logger-less runs' SimpleProfiler gives the loader's share."""

import argparse
import contextlib
import io
import logging
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from multiprocessing import get_context
from pathlib import Path

import lightning
import mlflow
import torch
import yaml
from lightning.pytorch.callbacks import ModelCheckpoint, Timer
from lightning.pytorch.profilers import SimpleProfiler
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import shared_midi  # noqa: E402
from naive_port import NaivePort  # noqa: E402

from lightning_modules.allocator import keep_freed_memory  # noqa: E402
from lightning_modules.components import objective  # noqa: E402
from lightning_modules.components.musicvae import MusicVAE  # noqa: E402
from lightning_modules.datamodule import ShardDataModule  # noqa: E402
from lightning_modules.experiment import CONFIGS, MAGENTA_PARAMS, load, names  # noqa: E402
from lightning_modules.settings import train_settings  # noqa: E402
from lightning_modules.train import train  # noqa: E402
from lightning_modules.vae_module import MusicVAEModule  # noqa: E402

CONFIG = "hierdec-mel_16bar-cpu"  # the paper's model at CPU size, the one part 3 trains
HEAP_CONFIGS = ("hierdec-mel_16bar-b64-cpu", "flat-mel_16bar-b64-cpu")  # the study's (docs/results.md)
FULL = {"timed_steps": 7, "train_steps": 40, "repeats": 3}
QUICK = {"timed_steps": 2, "train_steps": 8, "repeats": 1}


def parameter_table() -> None:
    print("Parameters, ours against Magenta's (configs.py)")
    for name in names():
        with torch.device("meta"):  # shapes only: the full-size configs would allocate gigabytes
            ours = sum(p.numel() for p in MusicVAE(load(name).model).parameters())
        magenta = MAGENTA_PARAMS.get(name)
        versus = f"{magenta / 1e6:8.1f} M   ours/Magenta = {ours / magenta:5.3f}" if magenta else f"{'–':>8s}"
        print(f"  {name:26s} {ours / 1e6:9.3f} M {versus}")
    print()


def models(name: str) -> tuple[MusicVAE, NaivePort, torch.Tensor]:
    experiment = load(name)
    torch.manual_seed(0)
    ours = MusicVAE(experiment.model)
    tokens = torch.randint(0, experiment.model.classes[0], (experiment.batch_size, experiment.model.steps, 1))
    return ours, NaivePort(ours), tokens


def loss(model: nn.Module, tokens: torch.Tensor, training) -> torch.Tensor:
    torch.manual_seed(0)  # the same z sample in both models
    logits, mu, sigma = model(tokens)
    return objective.elbo_loss(logits, tokens, mu, sigma, training.max_beta, training.free_bits)["loss"]


def timed(fns: list, steps: int) -> list[float]:
    """Median ms of each function, called in turns (so that drifting machine load hits all alike) after two warm-up
    rounds."""
    times = [[] for _ in fns]
    for _ in range(2 + steps):
        for fn, spent in zip(fns, times):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [1000 * statistics.median(spent[2:]) for spent in times]


def stepper(model: nn.Module, tokens: torch.Tensor, training, bf16: bool = False):
    """MusicVAEModule's step without Lightning around it; `bf16` as Lightning's bf16-mixed on a CPU."""
    optimizer = torch.optim.Adam(model.parameters(), lr=training.learning_rate)

    def step():
        optimizer.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            error = loss(model, tokens, training)
        error.backward()
        nn.utils.clip_grad_norm_(model.parameters(), training.grad_clip)
        optimizer.step()

    return step


def status_mb(field: str) -> float:
    return int(re.search(rf"{field}:\s+(\d+)", Path("/proc/self/status").read_text())[1]) / 1024


def peak_rss_mb(name: str, naive: bool) -> tuple[float, float]:
    """In a fresh process: the peak RSS over three steps, and how far they lift it above the built model. VmHWM, as
    ru_maxrss carries over the RSS of the parent that forked the process."""
    ours, port, tokens = models(name)
    built = status_mb("VmRSS")
    timed([stepper(port if naive else ours, tokens, load(name).training)], 1)
    return status_mb("VmHWM"), status_mb("VmHWM") - built


def gflop(model: nn.Module, tokens: torch.Tensor, training) -> float:
    """Forward and backward; without oneDNN nn.LSTM runs as matmuls that the counter sees."""
    with quiet(), torch.backends.mkldnn.flags(enabled=False), FlopCounterMode(display=False) as counter:
        loss(model, tokens, training).backward()
    return counter.get_total_flops() / 1e9


def step_table(steps: int, configs: tuple[str, ...], all_threads: bool) -> None:
    default_threads = torch.get_num_threads()
    width = max(map(len, configs))
    bf16 = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    if not bf16:
        print(f"This CPU ({torch.backends.cpu.get_cpu_capability()}) has no bfloat16 instructions: no bf16 column")
    for threads in sorted({1, default_threads}) if all_threads else [1]:
        torch.set_num_threads(threads)
        square = torch.randn(1024, 1024)
        peak = 2 * 1024**3 / timed([lambda: square @ square], 20)[0] / 1e6  # noqa: B023 (called here, in the loop)
        print(
            f"Training step at batch size, random tokens: median of {steps}, {threads} torch thread(s), "
            f"fp32 matmul peak {peak:.0f} GFLOP/s"
        )
        print(
            f"  {'config':{width}s} {'batch':>5s} {'GFLOP':>6s} {'fp32 ms':>8s} {'bf16 ms':>8s} {'naive ms':>9s} "
            f"{'bf16/fp32':>9s} {'naive/ours':>10s}  tokens/s fp32 / bf16 / naive   GFLOP/s ours / naive   "
            f"peak RSS MB (step's part) ours / naive"
        )
        for name in configs:
            ours, port, tokens = models(name)
            training = load(name).training
            assert sum(p.numel() for p in port.parameters()) == sum(p.numel() for p in ours.parameters())
            torch.testing.assert_close(loss(port, tokens, training), loss(ours, tokens, training), rtol=1e-5, atol=0)
            work = gflop(ours, tokens, training)
            if bf16:
                fp32_ms, bf16_ms, naive_ms = timed(
                    [
                        stepper(ours, tokens, training),
                        stepper(ours, tokens, training, True),
                        stepper(port, tokens, training),
                    ],
                    steps,
                )
            else:  # oneDNN has no bf16 LSTM without the instructions: the column says so
                (fp32_ms, naive_ms), bf16_ms = (
                    timed([stepper(ours, tokens, training), stepper(port, tokens, training)], steps),
                    float("nan"),
                )
            with get_context("spawn").Pool(1, maxtasksperchild=1) as pool:  # a fresh process for each
                (ours_mb, ours_step), (naive_mb, naive_step) = pool.starmap(peak_rss_mb, [(name, False), (name, True)])
            rate = [tokens.shape[0] * tokens.shape[1] * 1000 / ms for ms in (fp32_ms, bf16_ms, naive_ms)]
            print(
                f"  {name:{width}s} {len(tokens):5d} {work:6.1f} {fp32_ms:8.0f} {bf16_ms:8.0f} {naive_ms:9.0f} "
                f"{bf16_ms / fp32_ms:8.2f}x {naive_ms / fp32_ms:9.1f}x  "
                f"{rate[0]:13.0f} / {rate[1]:.0f} / {rate[2]:.0f}   "
                f"{1000 * work / fp32_ms:12.0f} / {1000 * work / naive_ms:5.0f}   "
                f"{ours_mb:.0f} (+{ours_step:.0f}) / {naive_mb:.0f} (+{naive_step:.0f})"
            )
    torch.set_num_threads(default_threads)
    print(
        "  goals: naive/ours >= 5x, which takes ours at 5x the naive port's GFLOP/s (compare the matmul peak); "
        "bf16/fp32 < 1 where train.precision auto picks bf16\n"
    )


def heap_run(name: str, kept: bool, steps: int) -> tuple[float, float, float, float]:
    """In a fresh process at one thread: median ms a step, and kernel ms, minor faults and peak RSS MB."""
    torch.set_num_threads(1)
    if kept:
        keep_freed_memory()
    ours, _, tokens = models(name)
    step = stepper(ours, tokens, load(name).training)
    for _ in range(2):
        step()
    before, spent = resource.getrusage(resource.RUSAGE_SELF), []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        spent.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_SELF)
    return (
        1000 * statistics.median(spent),
        1000 * (after.ru_stime - before.ru_stime) / steps,
        (after.ru_minflt - before.ru_minflt) / steps,
        status_mb("VmHWM"),
    )


def heap_table(steps: int, repeats: int, configs: tuple[str, ...]) -> None:
    print(
        f"The heap: a step at batch size in fresh processes at one thread, median of {steps}, best of {repeats} "
        f"processes each, in turns"
    )
    print(f"  {'config':26s} {'malloc':8s} {'ms':>6s} {'kernel ms':>10s} {'minor faults':>13s} {'peak RSS MB':>12s}")
    for name in configs:
        results = {False: [], True: []}
        for _ in range(repeats):
            for kept in results:
                with get_context("spawn").Pool(1, maxtasksperchild=1) as pool:
                    results[kept].append(pool.apply(heap_run, (name, kept, steps)))
        for kept, rows in results.items():
            ms, kernel, faults, rss = min(rows)
            print(f"  {name:26s} {'kept' if kept else 'glibc':8s} {ms:6.0f} {kernel:10.1f} {faults:13.0f} {rss:12.0f}")
        print(f"  {'':26s} default/kept step time {min(results[False])[0] / min(results[True])[0]:.2f}x")
    print("  goal: kept < glibc's step time; the peak RSS it costs is the trade (train.keep_freed_memory: false)\n")


@contextlib.contextmanager
def quiet():
    """Lightning's progress bar and warnings, and MLflow's run links, off the table."""
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        yield


def shards() -> Path:
    cache = Path(tempfile.gettempdir()) / "musicvae-bench-train-shards"
    if not (cache / "mel_16bar" / "manifest.json").exists():
        from tests.support.beam_runs import run  # Beam is slow to import; only when the cache is cold

        with quiet():
            shared_midi.files("bench_train")
            run(f"{shared_midi.FOLDER}/**/*.mid", cache, reps=["mel_16bar"])
    return cache


def fit(folder: Path, settings: dict, out: Path, uri: str | None) -> tuple[float, float, float | None]:
    """train() against `uri`, or with None its Trainer and checkpoints without a logger, profiled (microseconds a
    step) for the share of the training loop spent fetching batches. Returns the training loop's seconds (as train()
    records them: a Timer's), the whole call's and that share."""
    start = time.perf_counter()
    if uri:
        record = train(load(CONFIG), train_settings(settings), folder, out, uri)
        return record["train_seconds"], time.perf_counter() - start, None
    experiment = load(CONFIG)
    lightning.seed_everything(settings["seed"], workers=True)
    data = ShardDataModule(
        folder / experiment.representation.name, experiment.batch_size, settings["num_workers"], settings["seed"]
    )
    checkpoints = ModelCheckpoint(
        dirpath=out, filename="best", monitor="val/r_loss", save_last=True, save_top_k=1, enable_version_counter=False
    )
    profiler, timer = SimpleProfiler(), Timer()
    trainer = lightning.Trainer(
        max_steps=settings["max_steps"],
        val_check_interval=settings["val_every_n_steps"],
        check_val_every_n_epoch=None,
        accelerator=settings["accelerator"],
        strategy=settings["strategy"],
        devices=settings["devices"],
        num_nodes=settings["num_nodes"],
        logger=False,
        callbacks=[checkpoints, timer],
        default_root_dir=out,
        deterministic=True,
        profiler=profiler,
    )
    module = MusicVAEModule(MusicVAE(experiment.model), experiment.training, experiment.representation)
    trainer.fit(module, data)
    durations = profiler.recorded_durations
    fetch = sum(durations["[_TrainingEpochLoop].train_dataloader_next"]) / sum(durations["run_training_epoch"])
    return timer.time_elapsed("train"), time.perf_counter() - start, fetch


@contextlib.contextmanager
def mlflow_server(tmp: Path):
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    uri, log = f"http://127.0.0.1:{port}", tmp / "server.log"
    with open(log, "wb") as out:  # a session of its own, so that its workers stop with it
        server = subprocess.Popen(
            [
                ROOT / ".venv" / "bin" / "mlflow",
                "server",
                "--backend-store-uri",
                f"sqlite:///{tmp}/server.db",
                "--artifacts-destination",
                tmp / "artifacts",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{uri}/health", timeout=1)
                break
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # its job runners outlive it by seconds
            os.killpg(server.pid, signal.SIGKILL)


def mlflow_table(folder: Path, settings: dict, steps: int, repeats: int) -> None:
    every, planned = settings["log_every_n_steps"], settings["max_steps"]
    settings = settings | {"max_steps": steps, "max_minutes": None, "val_every_n_steps": steps}
    with tempfile.TemporaryDirectory() as tmp, mlflow_server(Path(tmp)) as server, quiet():
        sqlite = f"sqlite:///{tmp}/local.db"  # its experiment made here, as a SQLite store keeps artifacts in ./mlruns
        mlflow.MlflowClient(sqlite).create_experiment(
            f"musicvae-{load(CONFIG).representation.name}", artifact_location=(Path(tmp) / "local-artifacts").as_uri()
        )
        runs = {
            "no logger": (None, 1),
            "sqlite": (sqlite, 1),
            "mlflow server": (server, 1),
            f"server, every {every}": (server, every),
        }  # the last as params.yaml logs
        for i, (uri, _) in enumerate(runs.values()):  # warm-up: new databases, the server's workers still starting
            fit(folder, settings | {"max_steps": 2, "val_every_n_steps": 2}, Path(tmp) / f"warm{i}", uri)
        results = {label: [] for label in runs}
        for r in range(repeats):
            for i, (label, (uri, n)) in enumerate(runs.items()):
                results[label].append(fit(folder, settings | {"log_every_n_steps": n}, Path(tmp) / f"{r}-{i}", uri))
    print(f"train() for {steps} steps of {CONFIG} on real shards, logging every step unless said, best of {repeats}")
    print(f"  {'logger':16s} {'fit s':>6s} {'whole call s':>13s} {'overhead':>9s}   (train() records fit to 0.1 s)")
    best = {label: (min(r[0] for r in rows), min(r[1] for r in rows)) for label, rows in results.items()}
    for label, (fit_s, whole_s) in best.items():
        print(f"  {label:16s} {fit_s:6.1f} {whole_s:13.1f} {100 * (whole_s / best['no logger'][1] - 1):8.1f}%")
    # Logging every step against every n-th splits the server's cost into a part per logged step (from the training
    # loops) and one per run (from the whole calls: the run's creation, its params, the checkpoint's upload, and
    # MLflow's async queue waiting up to 1 s for its thread at the end): projected onto params.yaml's run length.
    base, all_steps, some = best["no logger"][0], best["mlflow server"][0], best[f"server, every {every}"][0]
    per_log = (all_steps - some) / (steps - steps // every)
    per_run = best[f"server, every {every}"][1] - best["no logger"][1] - per_log * (steps // every)
    projected = (per_run + per_log * (planned // every)) / (base / steps * planned)
    print(
        f"  goal: overhead < 5%\n  the server costs the fit {1000 * per_log:.0f} ms a logged step and "
        f"{per_run:.1f} s a run: {100 * projected:.1f}% over params.yaml's {planned} steps, logging every {every}"
    )
    fetch = statistics.median(share for _, _, share in results["no logger"])
    print(
        f"Loader (no-logger runs, num_workers {settings['num_workers']}): fetching batches "
        f"{100 * fetch:.2f}% of the training loop's wall time (goal < 5%)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: few steps, one config, one thread, no repeats"
    )
    parser.add_argument("--only", choices=("parameters", "steps", "heap", "mlflow"), help="one part of the four")
    args = parser.parse_args()
    n = QUICK if args.quick else FULL
    logging.disable(logging.WARNING)  # Lightning's and MLflow's notices: their handlers hold the original streams
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    # `make run`'s config against the one it varies (its base): what a step costs sets the default's step budget
    default = params["model"]["config"]
    against = yaml.safe_load((CONFIGS / f"{default}.yaml").read_text())["base"]
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start (other processes skew timings)\n")
    if args.only in (None, "parameters"):
        parameter_table()
    if args.only in (None, "steps"):
        # before any Trainer(deterministic=True), which stays set for the process; the smoke run on one config
        step_table(
            n["timed_steps"],
            (CONFIG,) if args.quick else (CONFIG, "flat-mel_16bar-cpu", default, against),
            not args.quick,
        )
    if args.only in (None, "heap"):
        heap_table(n["timed_steps"], n["repeats"], HEAP_CONFIGS[:1] if args.quick else HEAP_CONFIGS)
    if args.only in (None, "mlflow"):
        mlflow_table(shards(), params["train"], n["train_steps"], n["repeats"])
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
