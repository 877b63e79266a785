"""The learning monitor on a CUDA GPU."""

import pytest
import torch

from lightning_modules.components.musicvae import ModelConfig, MusicVAE
from lightning_modules.learning_monitor import diagnose
from tests.support import system
from tests.support.tiny import TINY, windows


@pytest.mark.parametrize("hierarchical", [False, True])
def test_a_model_on_a_gpu_is_diagnosed_as_on_the_cpu(hierarchical):
    """During training the model is on the GPU and the monitor's windows on the CPU; cuDNN's LSTM has no backward
    in eval mode, which grad_z needs."""
    system.needs_cuda()
    torch.manual_seed(0)
    model = MusicVAE(ModelConfig(**TINY, hierarchical=hierarchical, state_init="pytorch", head_init="pytorch"))
    on_cpu = diagnose(model, windows())
    on_gpu = diagnose(model.cuda(), windows())
    for key in ("accuracy", "active_units", "r_loss", "gap_nats", "grad_z"):
        assert on_gpu[key] == pytest.approx(on_cpu[key], rel=1e-3, abs=1e-4), key
