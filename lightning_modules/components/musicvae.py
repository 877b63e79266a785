"""MusicVAE (Roberts et al., 2018) in plain PyTorch: a bidirectional LSTM encoder to q(z|x), and a flat or
hierarchical ("conductor") LSTM decoder. Tokens are class indices [batch, steps, parts]; parts is 1 for melodies and
drums, 3 for trios (melody, bass, drums).

Magenta's details kept (magenta/models/music_vae: base_model.py `MusicVAE.encode`, lstm_models.py
`BidirectionalLstmEncoder`, `BaseLstmDecoder`, `HierarchicalLstmDecoder`): sigma = softplus(Dense), both heads
initialised N(0, 1e-3); z (or a bar's conductor embedding) sets every layer's (h, c) through tanh(Dense) and is
concatenated to the decoder input at every step; the first input is zeros; a bar starts from the previous bar's last
token; the conductor reads a size-1 zero input. PyTorch's LSTM has no run-time forget bias, so the forget-gate
bias starts at 1 instead.

Options that depart from the faithful configs, for the study of when the hierarchical model uses z
(docs/results.md): `conductor_input` "z" (z at every bar) or "autoregressive" (Magenta's `disable_autoregression=False`:
z and the previous bar's final core-decoder state); `state_init` and `head_init` "pytorch" (PyTorch's default
initialisation of the state projections and of the mu/sigma heads instead of Magenta's N(0, 1e-3)).

`encoder` "hierarchical" is Magenta's HierarchicalLstmEncoder with level lengths [16, bars] (its `hier-*` configs):
a BiLSTM over each bar, then one over the bars' embeddings. magenta.js runs a conductor only under this encoder."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from musicvae.codecs import drums
from musicvae.codecs.melody import STEPS_PER_BAR
from musicvae.temperature import GREEDY, check_temperature

CONDUCTOR_INPUTS = ("none", "z", "autoregressive")
INITS = ("magenta", "pytorch")
ENCODERS = ("bidirectional", "hierarchical")


def magenta_init(dense: nn.Linear, init: str) -> None:
    """Magenta's kernel N(0, 1e-3) and zero bias; "pytorch" keeps nn.Linear's own initialisation."""
    if init == "magenta":
        nn.init.normal_(dense.weight, std=1e-3)
        nn.init.zeros_(dense.bias)


@dataclass(frozen=True)
class ModelConfig:
    kind: str  # "melody", "drums" or "trio": how tokens become encoder inputs
    classes: tuple[int, ...]  # per part: (90,), (512,) or (90, 90, 512)
    steps: int  # 32 for 2 bars, 256 for 16
    # the sizes, no defaults: a config that forgets one is refused instead of getting the paper's
    z_size: int
    enc_rnn_size: tuple[int, ...]  # per direction, one entry per layer
    dec_rnn_size: tuple[int, ...]
    hierarchical: bool = True  # a conductor over bars; otherwise one flat decoder over all steps
    dropout: float = 0.0  # on each LSTM layer's input, as Magenta's 1 - dropout_keep_prob
    # Not Magenta's: in teacher-forced training, each step's previous token hidden from the decoder with this
    # probability (word dropout, Bowman et al. 2016), so that it leans on z rather than on the tunes' idiom
    word_dropout: float = 0.0
    conductor_input: str = "none"  # "none" (Magenta's size-1 zeros), "z", or "autoregressive"
    state_init: str = "magenta"  # tanh(Dense) state projections: "magenta" (N(0, 1e-3)) or "pytorch"
    head_init: str = "magenta"  # the mu and sigma heads: "magenta" (N(0, 1e-3)) or "pytorch"
    encoder: str = "bidirectional"  # Magenta's BidirectionalLstmEncoder, or "hierarchical" (per bar, then bars)

    def __post_init__(self):
        for key, allowed in (
            ("conductor_input", CONDUCTOR_INPUTS),
            ("state_init", INITS),
            ("head_init", INITS),
            ("encoder", ENCODERS),
        ):
            if getattr(self, key) not in allowed:
                raise ValueError(f"model.{key} is {getattr(self, key)!r}; choose from {', '.join(allowed)}")
        if self.encoder == "hierarchical" and self.steps % STEPS_PER_BAR:
            raise ValueError(f"a hierarchical encoder needs whole bars, got {self.steps} steps")

    @property
    def bars(self) -> int:
        return self.steps // STEPS_PER_BAR


def encoder_inputs(tokens: torch.Tensor, config: ModelConfig) -> torch.Tensor:
    """One-hot per part; drums as Magenta's 10-dim roll (9 class bits and a "nothing hit" bit)."""
    if config.kind == "drums":
        bits = (tokens[..., 0, None] >> torch.arange(config.classes[0].bit_length() - 1, device=tokens.device)) & 1
        return torch.cat([bits, (tokens[..., :1] == 0)], -1).float()
    return one_hot(tokens, config.classes)


def one_hot(tokens: torch.Tensor, classes: tuple[int, ...]) -> torch.Tensor:
    return torch.cat([F.one_hot(tokens[..., p], c) for p, c in enumerate(classes)], -1).float()


def _lstm(input_size: int, sizes: tuple[int, ...], dropout: float, bidirectional: bool = False) -> nn.LSTM:
    if len(set(sizes)) != 1:
        raise ValueError(f"layers of one LSTM stack must have one size, got {sizes}")
    lstm = nn.LSTM(
        input_size,
        sizes[0],
        len(sizes),
        batch_first=True,
        dropout=dropout if len(sizes) > 1 else 0,
        bidirectional=bidirectional,
    )
    for name, bias in lstm.named_parameters():
        if name.startswith("bias_ih"):
            nn.init.zeros_(bias)
            bias.data[sizes[0] : 2 * sizes[0]] = 1.0  # forget gate (PyTorch order i, f, g, o)
        elif name.startswith("bias_hh"):
            nn.init.zeros_(bias)
    return lstm


def _final(rnn: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """A bidirectional stack's embedding of x: the final forward and backward states of the top layer."""
    _, (h, _) = rnn(x)
    return torch.cat([h[-2], h[-1]], -1)


class Encoder(nn.Module):
    """x → (mu, sigma) of q(z|x). Hierarchical: `rnn` embeds each bar (Magenta's hierarchical_level_0), `level_1`
    the sequence of those embeddings."""

    def __init__(self, config: ModelConfig, input_size: int):
        super().__init__()
        size = 2 * config.enc_rnn_size[-1]
        self.rnn = _lstm(input_size, config.enc_rnn_size, config.dropout, bidirectional=True)
        self.bars = config.bars if config.encoder == "hierarchical" else 0
        if self.bars:
            self.level_1 = _lstm(size, config.enc_rnn_size, config.dropout, bidirectional=True)
        self.mu = nn.Linear(size, config.z_size)
        self.sigma = nn.Linear(size, config.z_size)
        for head in (self.mu, self.sigma):
            magenta_init(head, config.head_init)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.bars:
            b, t, _ = x.shape
            bars = _final(self.rnn, x.reshape(b * self.bars, t // self.bars, -1)).view(b, self.bars, -1)
            embedding = _final(self.level_1, bars)
        else:
            embedding = _final(self.rnn, x)
        return self.mu(embedding), F.softplus(self.sigma(embedding))


class InitialState(nn.Module):
    """tanh(Dense(embedding)) split into (h, c) for every layer."""

    def __init__(self, embedding_size: int, sizes: tuple[int, ...], init: str = "magenta"):
        super().__init__()
        self.layers, self.units = len(sizes), sizes[0]
        self.dense = nn.Linear(embedding_size, 2 * self.layers * self.units)
        magenta_init(self.dense, init)

    def forward(self, embedding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        state = torch.tanh(self.dense(embedding)).view(-1, self.layers, 2, self.units)
        c, h = state.permute(2, 1, 0, 3).contiguous()  # Magenta's order [c1, h1, c2, h2, ...]
        return h, c


def flat_state(state: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """(h, c) [layers, N, H] → [N, layers·2·H] in Magenta's flattened order [c1, h1, c2, h2, ...]."""
    h, c = state
    return torch.stack([c, h], 1).permute(2, 0, 1, 3).flatten(1)


class CoreDecoder(nn.Module):
    """An LSTM stack conditioned on an embedding (z, or a bar's conductor output), emitting logits per step."""

    def __init__(self, config: ModelConfig, input_size: int, embedding_size: int, output_size: int):
        super().__init__()
        self.initial_state = InitialState(embedding_size, config.dec_rnn_size, config.state_init)
        self.rnn = _lstm(input_size + embedding_size, config.dec_rnn_size, config.dropout)
        self.output = nn.Linear(config.dec_rnn_size[-1], output_size)

    def forward(self, inputs: torch.Tensor, embedding: torch.Tensor, state=None):
        """inputs [N, T, in] (previous tokens), embedding [N, E] → logits [N, T, out], state."""
        state = self.initial_state(embedding) if state is None else state
        conditioned = torch.cat([inputs, embedding[:, None].expand(-1, inputs.shape[1], -1)], -1)
        outputs, state = self.rnn(conditioned, state)
        return self.output(outputs), state

    def step(self, inputs: torch.Tensor, embedding: torch.Tensor, state=None):
        """One step of every sequence: inputs [N, in] → logits [N, out], state. LSTM cells on the stack's own
        weights: a length-1 nn.LSTM call costs far more per step on CPU (oneDNN sets up each call)."""
        h, c = self.initial_state(embedding) if state is None else state
        x, hs, cs = torch.cat([inputs, embedding], -1), [], []
        for layer, weights in enumerate(self.rnn.all_weights):
            if layer:
                x = F.dropout(x, self.rnn.dropout, self.training)
            x, cell = torch.lstm_cell(x, (h[layer], c[layer]), *weights)
            hs.append(x)
            cs.append(cell)
        return self.output(x), (torch.stack(hs), torch.stack(cs))


def choose(logits: torch.Tensor, temperature: float | str) -> torch.Tensor:
    """A draw at `temperature`, or the argmax when it is GREEDY."""
    if temperature == GREEDY:
        return logits.argmax(-1)
    return torch.multinomial(F.softmax(logits / temperature, -1), 1)[:, 0]  # Categorical's checks cost more


class MusicVAE(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        c = config
        self.encoder = Encoder(c, drums.ROLL if c.kind == "drums" else sum(c.classes))
        if c.hierarchical:
            if c.steps % STEPS_PER_BAR:
                raise ValueError(f"a hierarchical decoder needs whole bars, got {c.steps} steps")
            self.conductor_state = InitialState(c.z_size, c.dec_rnn_size, c.state_init)
            # Magenta's autoregressive conductor reads z and the previous bar's final state of every core decoder.
            self.feedback_size = 2 * len(c.dec_rnn_size) * c.dec_rnn_size[0] * len(c.classes)
            inputs = {"none": 1, "z": c.z_size, "autoregressive": self.feedback_size + c.z_size}
            self.conductor = _lstm(inputs[c.conductor_input], c.dec_rnn_size, c.dropout)
            self.decoders = nn.ModuleList(CoreDecoder(c, n, c.dec_rnn_size[-1], n) for n in c.classes)
        else:  # one decoder; for trio a multi-softmax over the concatenated parts
            self.decoders = nn.ModuleList([CoreDecoder(c, sum(c.classes), c.z_size, sum(c.classes))])

    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens [B, T, P] → z (reparameterized sample), mu, sigma."""
        mu, sigma = self.encoder(encoder_inputs(tokens, self.config))
        return mu + sigma * torch.randn_like(sigma), mu, sigma

    def conduct(self, z: torch.Tensor) -> torch.Tensor:
        """z [B, Z] → one embedding per bar [B, U, H], all bars at once (not for the autoregressive conductor)."""
        bars = self.config.bars
        inputs = (
            z.new_zeros(z.shape[0], bars, 1)
            if self.config.conductor_input == "none"
            else z[:, None].expand(-1, bars, -1)
        )
        embeddings, _ = self.conductor(inputs, self.conductor_state(z))
        return embeddings

    def conduct_bar(self, z: torch.Tensor, finals: list | None, state):
        """The autoregressive conductor's step for one bar: z and the previous bar's final core-decoder states
        (None before the first bar, as Magenta's zeros) → the bar's embedding [B, H] and the conductor's state."""
        feedback = (
            torch.cat([flat_state(s) for s in finals], -1) if finals else z.new_zeros(z.shape[0], self.feedback_size)
        )
        out, state = self.conductor(
            torch.cat([feedback, z], -1)[:, None], self.conductor_state(z) if state is None else state
        )
        return out[:, 0], state

    def _previous(self, tokens: torch.Tensor) -> torch.Tensor:
        """Decoder inputs: one-hot of the previous token per part, zeros first."""
        return F.pad(one_hot(tokens, self.config.classes), (0, 0, 1, 0))[:, :-1]

    def _parts(self, logits: torch.Tensor) -> list[torch.Tensor]:
        return list(logits.split(list(self.config.classes), -1))

    def decode_teacher_forced(
        self, z: torch.Tensor, tokens: torch.Tensor, bars_parallel: bool = True
    ) -> list[torch.Tensor]:
        """Logits per part [B, T, classes] with ground-truth previous tokens."""
        previous = self._previous(tokens)
        if self.training and self.config.word_dropout:
            previous = (
                previous
                * (torch.rand(previous.shape[:2], device=previous.device) >= self.config.word_dropout)[..., None]
            )
        if not self.config.hierarchical:
            return self._parts(self.decoders[0](previous, z)[0])
        c, (b, t, _) = self.config, previous.shape
        offsets = [0, *torch.tensor(c.classes).cumsum(0).tolist()]
        parts = [previous[..., offsets[p] : offsets[p + 1]] for p in range(len(c.classes))]
        if c.conductor_input == "autoregressive":
            return self._decode_bars_in_turn(z, parts)
        bars = self.conduct(z)
        logits = []
        for p, decoder in enumerate(self.decoders):
            inputs = parts[p]
            if bars_parallel:  # bars are independent given the conductor: one batched call over B·U sequences
                out, _ = decoder(inputs.reshape(b * c.bars, STEPS_PER_BAR, -1), bars.reshape(b * c.bars, -1))
                logits.append(out.view(b, t, -1))
            else:
                logits.append(
                    torch.cat(
                        [
                            decoder(inputs[:, u * STEPS_PER_BAR : (u + 1) * STEPS_PER_BAR], bars[:, u])[0]
                            for u in range(c.bars)
                        ],
                        1,
                    )
                )
        return logits

    def _decode_bars_in_turn(self, z: torch.Tensor, parts: list[torch.Tensor]) -> list[torch.Tensor]:
        """Teacher forcing under the autoregressive conductor: each bar's embedding needs the previous bar's end."""
        logits, finals, state = [[] for _ in parts], None, None
        for u in range(self.config.bars):
            embedding, state = self.conduct_bar(z, finals, state)
            bar = slice(u * STEPS_PER_BAR, (u + 1) * STEPS_PER_BAR)
            finals = []
            for p, decoder in enumerate(self.decoders):
                out, final = decoder(parts[p][:, bar], embedding)
                logits[p].append(out)
                finals.append(final)
        return [torch.cat(lg, 1) for lg in logits]

    def decode_sampled(
        self,
        z: torch.Tensor,
        temperature: float | str = 1.0,
        tokens: torch.Tensor | None = None,
        sampling_probability: float = 1.0,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Step by step, feeding back the model's own tokens. With `tokens` (scheduled sampling) each sequence and
        step takes the ground truth with probability 1 - sampling_probability. Returns tokens [B, T, P] and the
        logits per part."""
        check_temperature(temperature)
        c, b = self.config, z.shape[0]
        parts = len(c.classes)
        chosen = z.new_zeros(b, c.steps, parts, dtype=torch.long)
        logits = [z.new_zeros(b, c.steps, n) for n in c.classes]
        previous = z.new_zeros(b, sum(c.classes))
        autoregressive = c.hierarchical and c.conductor_input == "autoregressive"
        embeddings = self.conduct(z) if c.hierarchical and not autoregressive else None
        states, embedding, conductor = [None] * len(self.decoders), z, None
        for t in range(c.steps):
            if c.hierarchical and t % STEPS_PER_BAR == 0:
                if autoregressive:
                    embedding, conductor = self.conduct_bar(z, states if t else None, conductor)
                else:
                    embedding = embeddings[:, t // STEPS_PER_BAR]
                states = [None] * len(self.decoders)  # each bar restarts from its own embedding
            step_logits = []
            for d, decoder in enumerate(self.decoders):
                inputs = previous.split(list(c.classes), -1)[d] if c.hierarchical else previous
                out, states[d] = decoder.step(inputs, embedding, states[d])
                step_logits += self._parts(out) if not c.hierarchical else [out]
            step = torch.stack([choose(lg, temperature) for lg in step_logits], -1)
            if tokens is not None:
                use_sample = torch.rand(b, 1, device=z.device) < sampling_probability
                step = torch.where(use_sample, step, tokens[:, t])
            chosen[:, t] = step
            for p, lg in enumerate(step_logits):
                logits[p][:, t] = lg
            previous = one_hot(step, c.classes)
        return chosen, logits

    def forward(self, tokens: torch.Tensor, sampling_probability: float = 0.0):
        """Training pass: logits per part, and q(z|x) as (mu, sigma)."""
        z, mu, sigma = self.encode(tokens)
        if sampling_probability > 0:
            _, logits = self.decode_sampled(z, 1.0, tokens, sampling_probability)
        else:
            logits = self.decode_teacher_forced(z, tokens)
        return logits, mu, sigma

    @torch.no_grad()
    def sample(self, n: int, temperature: float | str = 1.0, z: torch.Tensor | None = None) -> torch.Tensor:
        """Tokens [n, T, P] decoded from z ~ N(0, I) (or the given z)."""
        z = torch.randn(n, self.config.z_size, device=self.encoder.mu.weight.device) if z is None else z
        return self.decode_sampled(z, temperature)[0]
