"""The naive PyTorch port the benchmarks measure against: our weights, but the conductor and decoders stepped token
by token through nn.LSTMCell stacks in Python, as TF1 → PyTorch ports do (the encoder keeps nn.LSTM, since the whole
sequence is known)."""

import copy

import torch
import torch.nn.functional as F
from torch import nn

from lightning_modules.components.musicvae import STEPS_PER_BAR, MusicVAE, encoder_inputs, one_hot


def cells(lstm: nn.LSTM) -> nn.ModuleList:
    """The layers of an nn.LSTM as nn.LSTMCells holding the same weights."""
    stack = nn.ModuleList()
    for k in range(lstm.num_layers):
        cell = nn.LSTMCell(lstm.input_size if k == 0 else lstm.hidden_size, lstm.hidden_size)
        cell.load_state_dict({n: getattr(lstm, f"{n}_l{k}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
        stack.append(cell)
    return stack


def cell_step(stack: nn.ModuleList, x: torch.Tensor, h: list, c: list) -> torch.Tensor:
    for k, cell in enumerate(stack):
        h[k], c[k] = cell(x, (h[k], c[k]))
        x = h[k]
    return x


class NaivePort(nn.Module):
    def __init__(self, ours: MusicVAE):
        super().__init__()
        self.config = ours.config
        self.encoder = copy.deepcopy(ours.encoder)  # ports keep nn.LSTM where the whole sequence is known
        if self.config.hierarchical:
            self.conductor_state, self.conductor = copy.deepcopy(ours.conductor_state), cells(ours.conductor)
        self.initial_states = nn.ModuleList(copy.deepcopy(d.initial_state) for d in ours.decoders)
        self.stacks = nn.ModuleList(cells(d.rnn) for d in ours.decoders)
        self.outputs = nn.ModuleList(copy.deepcopy(d.output) for d in ours.decoders)

    def forward(self, tokens: torch.Tensor):
        c = self.config
        mu, sigma = self.encoder(encoder_inputs(tokens, c))
        z = mu + sigma * torch.randn_like(sigma)
        previous = F.pad(one_hot(tokens, c.classes), (0, 0, 1, 0))[:, :-1]
        if c.hierarchical:  # one segment per bar, conditioned on its conductor output
            h, cs = map(list, self.conductor_state(z))
            segments = [cell_step(self.conductor, z.new_zeros(len(z), 1), h, cs) for _ in range(c.bars)]
            length, parts = STEPS_PER_BAR, previous.split(list(c.classes), -1)
        else:
            segments, length, parts = [z], c.steps, [previous]
        logits = []
        for inputs, initial, stack, output in zip(parts, self.initial_states, self.stacks, self.outputs):
            steps = []
            for u, embedding in enumerate(segments):
                h, cs = map(list, initial(embedding))
                for t in range(u * length, (u + 1) * length):
                    steps.append(output(cell_step(stack, torch.cat([inputs[:, t], embedding], -1), h, cs)))
            logits.append(torch.stack(steps, 1))
        return (logits if c.hierarchical else list(logits[0].split(list(c.classes), -1))), mu, sigma
