"""keep_freed_memory: a training step's large blocks reuse the pages the previous step freed instead of faulting in
fresh ones. Each case in a fresh process, since the setting holds for the process's life."""

import subprocess
import sys

STEPS = """
import resource, sys, torch
from lightning_modules.allocator import keep_freed_memory
from lightning_modules.components import objective
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.experiment import load
torch.set_num_threads(1)
kept = keep_freed_memory() if sys.argv[1] == "kept" else False
experiment = load("hierdec-mel_16bar-cpu")
torch.manual_seed(0)
model = MusicVAE(experiment.model)
optimizer = torch.optim.Adam(model.parameters())
tokens = torch.randint(0, 90, (32, 256, 1))
# Measured after five warm-up steps, which grow the heap: after two, a kept step still faulted in 4,000-11,600
# pages on one host (flaky against glibc's 42,000), after five 700-800.
for step in range(8):
    if step == 5:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    optimizer.zero_grad()
    logits, mu, sigma = model(tokens)
    objective.elbo_loss(logits, tokens, mu, sigma, 0.2, 256)["loss"].backward()
    optimizer.step()
print(kept, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 3)
"""


def faults_per_step(mode: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True).stdout
    kept, faults = out.split()
    return kept, int(faults)


def test_a_training_step_reuses_freed_memory():
    (default_set, default), (kept_set, kept) = faults_per_step("glibc"), faults_per_step("kept")
    assert default_set == "False" and kept_set == str(sys.platform.startswith("linux"))
    if kept_set == "False":  # not glibc: its allocator is left as it is
        return
    assert default > 10_000  # pages of 4 KiB mapped afresh each step (about 50,000 at batch 32)
    assert kept < default / 4
