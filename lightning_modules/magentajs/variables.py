"""This project's state_dict and Magenta's TensorFlow variables, both ways.

Names: as magenta.js's MusicVAE.initialize looks them up (music/src/music_vae/model.ts). Layout: a TF LSTM cell has
one kernel [input + units, 4·units] over [x, h] and one bias, gates in the order i, j (the candidate), f, o, and
adds a forget bias of 1 at run time (magenta.js: tf.basicLSTMCell(forgetBias=1)); PyTorch has W_ih [4·units, input],
W_hh [4·units, units] and two biases, gates i, f, g, o, and no run-time forget bias. Dense: TF's kernel is
PyTorch's weight transposed."""

from __future__ import annotations

import numpy as np
import torch

TF_FROM_TORCH_GATES = [0, 2, 1, 3]  # TF's (i, j, f, o) as PyTorch's gate blocks (i, f, g, o); its own inverse
FORGET = 1  # PyTorch's forget gate block
FORGET_BIAS = 1.0  # added to f at run time by TF's LSTM cells and by magenta.js


def _gates(a: np.ndarray, axis: int) -> np.ndarray:
    return np.concatenate([np.split(a, 4, axis)[g] for g in TF_FROM_TORCH_GATES], axis)


def _forget_unit(units: int) -> np.ndarray:
    unit = np.zeros(4 * units, np.float32)
    unit[FORGET * units : (FORGET + 1) * units] = FORGET_BIAS
    return unit


def lstm_to_tf(w_ih, w_hh, b_ih, b_hh) -> tuple[np.ndarray, np.ndarray]:
    """One PyTorch LSTM layer (one direction) → TF (kernel, bias), the run-time forget bias taken out of the bias.
    b_hh - 1 first: for a model imported from TF it is exactly 0, so that import → export gives the same bytes."""
    units = w_hh.shape[1]
    kernel = _gates(np.concatenate([w_ih, w_hh], 1).T, 1)
    return kernel, _gates(b_ih + (b_hh - _forget_unit(units)), 0)


def lstm_from_tf(kernel: np.ndarray, bias: np.ndarray, inputs: int) -> tuple[np.ndarray, ...]:
    """TF (kernel, bias) → PyTorch (W_ih, W_hh, b_ih, b_hh): the TF bias in b_ih, the forget bias in b_hh."""
    units = bias.shape[0] // 4
    torch_kernel = _gates(kernel, 1).T
    return torch_kernel[:, :inputs], torch_kernel[:, inputs:], _gates(bias, 0), _forget_unit(units)


def _dense(prefix: str, module: str) -> dict[str, tuple[str, bool]]:
    """TF name → (state_dict key, transposed) of a Dense layer."""
    return {f"{prefix}/kernel": (f"{module}.weight", True), f"{prefix}/bias": (f"{module}.bias", False)}


def _stack(tf_cell: str, module: str, layers: int, suffix: str = "") -> dict[str, tuple[str, str, int]]:
    """TF cell prefix of each layer (tf_cell has {l}) → (module, PyTorch parameter suffix, layer)."""
    return {tf_cell.format(l=layer): (module, suffix, layer) for layer in range(layers)}


def names(config, hierarchical_encoder: bool) -> tuple[dict, dict]:
    """The Dense layers {TF name: (key, transposed)} and LSTM layers {TF cell prefix: (module, suffix, layer)} of a
    model, in magenta.js's layout: a conductor goes with the `core_decoder/` prefix, trio's parts with
    `core_decoder_{i}/`."""
    enc, dec = len(config.enc_rnn_size), len(config.dec_rnn_size)
    dense = _dense("encoder/mu", "encoder.mu") | _dense("encoder/sigma", "encoder.sigma")
    cells = {}
    bidi = "cell_{l}/bidirectional_rnn/%s/multi_rnn_cell/cell_0/lstm_cell/"
    levels = (
        [("encoder/hierarchical_level_0/", "encoder.rnn"), ("encoder/hierarchical_level_1/", "encoder.level_1")]
        if hierarchical_encoder
        else [("encoder/", "encoder.rnn")]
    )
    for prefix, module in levels:
        cells |= _stack(prefix + bidi % "fw", module, enc) | _stack(prefix + bidi % "bw", module, enc, "_reverse")
    if config.hierarchical:
        dense |= _dense("decoder/hierarchical_level_0/initial_state", "conductor_state.dense")
        cells |= _stack("decoder/hierarchical_level_0/cell_{l}/lstm_cell/", "conductor", dec)
        parts = (
            ["core_decoder/decoder/"]
            if len(config.classes) == 1
            else [f"core_decoder/core_decoder_{i}/decoder/" for i in range(len(config.classes))]
        )
    else:
        parts = ["decoder/"]
    for i, prefix in enumerate(parts):
        dense |= _dense(prefix + "z_to_initial_state", f"decoders.{i}.initial_state.dense") | _dense(
            prefix + "output_projection", f"decoders.{i}.output"
        )
        cells |= _stack(prefix + "multi_rnn_cell/cell_{l}/lstm_cell/", f"decoders.{i}.rnn", dec)
    return dense, cells


def to_tf(state: dict[str, torch.Tensor], dense: dict, cells: dict) -> list[tuple[str, np.ndarray]]:
    """The variables in a fixed order: Dense layers, then LSTM cells, each as `names` lists them."""
    s = {k: v.detach().float().cpu().numpy() for k, v in state.items()}
    out = [(name, s[key].T if transposed else s[key]) for name, (key, transposed) in dense.items()]
    for prefix, (module, suffix, layer) in cells.items():
        kernel, bias = lstm_to_tf(
            *(s[f"{module}.{p}_l{layer}{suffix}"] for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
        )
        out += [(prefix + "kernel", kernel), (prefix + "bias", bias)]
    return out


def from_tf(tf_vars: dict[str, np.ndarray], dense: dict, cells: dict) -> dict[str, torch.Tensor]:
    state = {
        key: torch.from_numpy(np.ascontiguousarray(tf_vars[name].T if transposed else tf_vars[name]))
        for name, (key, transposed) in dense.items()
    }
    for prefix, (module, suffix, layer) in cells.items():
        kernel, bias = tf_vars[prefix + "kernel"], tf_vars[prefix + "bias"]
        inputs = kernel.shape[0] - bias.shape[0] // 4
        for p, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), lstm_from_tf(kernel, bias, inputs)):
            state[f"{module}.{p}_l{layer}{suffix}"] = torch.from_numpy(np.ascontiguousarray(value))
    return state
