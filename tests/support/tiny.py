"""A tiny melody model's sizes, and random windows to test it on: nothing but z can tell a decoder which one it is
reconstructing."""

import torch

TINY = dict(kind="melody", classes=(90,), steps=32, z_size=4, enc_rnn_size=(16,), dec_rnn_size=(32,))


def windows(n: int = 6, seed: int = 0) -> torch.Tensor:
    return torch.randint(2, 90, (n, 32, 1), generator=torch.Generator().manual_seed(seed))
