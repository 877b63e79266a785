"""Generation speed on the CPU config: one 16-bar sample, a 9-step interpolation, and batched sampling, ours
against a naive per-token loop in the same run.

Ours: `MusicVAE.decode_sampled`, every sequence of a request in one batch, stepped one token at a time (the
conductor runs once for all bars). Naive: benchmarks/naive_port.py, nn.LSTMCell layers stepped per token, one sequence
at a time (an interpolation is 9 separate decodes), with the same weights, so that greedy outputs must agree.

    python benchmarks/bench_generate.py [--config hierdec-mel_16bar-cpu] [--repeats 5]

Goal: < 1 s for a single sample or a whole interpolation on this CPU; < 200 ms for one request of `musicvae studio`
that decodes a 16-bar melody (over HTTP in-process: the JSON, the decode in a worker thread, the notes for the page)."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from naive_port import NaivePort, cell_step

from lightning_modules.checkpoint import LoadedModel
from lightning_modules.components.musicvae import STEPS_PER_BAR, MusicVAE, choose, one_hot
from lightning_modules.experiment import load
from musicvae.latent import interpolation_path
from musicvae.temperature import GREEDY


@torch.no_grad()
def naive_decode(port: NaivePort, z: torch.Tensor, temperature: float | str) -> torch.Tensor:
    """One sequence [Z] → tokens [T], token by token through the port's LSTMCells (hierarchical configs only)."""
    c, z = port.config, z[None]
    h, s = map(list, port.conductor_state(z))
    tokens, previous = [], z.new_zeros(1, c.classes[0])
    for _ in range(c.bars):
        embedding = cell_step(port.conductor, z.new_zeros(1, 1), h, s)
        hb, cb = map(list, port.initial_states[0](embedding))
        for _ in range(STEPS_PER_BAR):
            x = cell_step(port.stacks[0], torch.cat([previous, embedding], -1), hb, cb)
            token = choose(port.outputs[0](x), temperature)
            tokens.append(token)
            previous = one_hot(token.view(1, 1, 1), c.classes)[:, 0]
    return torch.cat(tokens)


def timed(work, repeats: int) -> float:
    work()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def studio_request(loaded: LoadedModel, repeats: int) -> float:
    """Seconds for one /api/sample request: z drawn, one melody decoded and answered with its notes."""
    from pathlib import Path

    from fastapi.testclient import TestClient

    from studio.app import create_app
    from studio.engine import Engine
    from studio.inputs import ShardTestSplit

    no_shards = ShardTestSplit(Path("/nonexistent"), loaded.representation, "the benchmark")
    client = TestClient(create_app(Engine(loaded), no_shards))
    return timed(lambda: client.post("/api/sample", json={"temperature": 1.0, "seed": 0}).raise_for_status(), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="hierdec-mel_16bar-cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    experiment = load(args.config)
    model = MusicVAE(experiment.model).eval()
    port = NaivePort(model).eval()
    z = torch.randn(2, model.config.z_size)
    path = interpolation_path(z[0], z[1], 9)
    ours_greedy = model.decode_sampled(path, GREEDY)[0][..., 0]
    naive_greedy = torch.stack([naive_decode(port, p, GREEDY) for p in path])
    agree = (ours_greedy == naive_greedy).float().mean().item()

    rows = [
        ("one 16-bar sample", lambda: model.sample(1, 1.0), lambda: naive_decode(port, z[0], 1.0)),
        (
            "9-step interpolation",
            lambda: model.decode_sampled(interpolation_path(z[0], z[1], 9), GREEDY),
            lambda: [naive_decode(port, p, GREEDY) for p in interpolation_path(z[0], z[1], 9)],
        ),
    ]
    print(
        f"{args.config}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, "
        f"{torch.get_num_threads()} threads; greedy tokens ours vs naive agree on {agree:.1%}"
    )
    print(f"{'':24}{'ours':>10}{'naive':>10}{'naive/ours':>12}")
    for label, ours, naive in rows:
        a, b = timed(ours, args.repeats), timed(naive, args.repeats)
        goal = "met" if a < 1 else "NOT met"
        print(f"{label:24}{a * 1e3:8.0f} ms{b * 1e3:8.0f} ms{b / a:11.1f}x   goal < 1 s: {goal}")
    batched = timed(lambda: model.sample(args.batch, 1.0), max(1, args.repeats // 2))
    single = timed(lambda: naive_decode(port, z[0], 1.0), args.repeats)
    print(
        f"batched sampling ({args.batch} at once): {args.batch / batched:.1f} samples/s; "
        f"naive one at a time: {1 / single:.1f} samples/s ({single * args.batch / batched:.1f}x)"
    )
    threads = torch.get_num_threads()
    by_threads = {}
    for n in (threads, 1):  # the model commands decode with generation.REQUEST_THREADS
        torch.set_num_threads(n)
        by_threads[n] = [timed(ours, args.repeats) for _, ours, _ in rows]
    torch.set_num_threads(threads)
    for (label, _, _), many, one in zip(rows, by_threads[threads], by_threads[1]):
        print(
            f"{label}: {threads} threads {many * 1e3:.0f} ms, 1 thread {one * 1e3:.0f} ms "
            f"({many / one:.2f}x the time with {threads})"
        )
    request = studio_request(LoadedModel(model, experiment.representation), args.repeats)
    print(
        f"musicvae studio, one {model.config.bars}-bar melody decoded per request: {request * 1e3:.0f} ms   "
        f"goal < 200 ms: {'met' if request < 0.2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
