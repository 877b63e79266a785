"""How a decoder picks each token: a draw at a softmax temperature, or greedy decoding, asked for by name."""

from __future__ import annotations

GREEDY = "greedy"  # the argmax at every step; never a temperature of 0 (a division by zero) or a missing value


def check_temperature(temperature: float | str) -> float | str:
    """A finite number above 0 (a negative one would prefer the least likely tokens), or GREEDY; a number given as
    text (from the command line) becomes a float."""
    if temperature == GREEDY:
        return GREEDY
    if isinstance(temperature, str):
        try:
            temperature = float(temperature)
        except ValueError:
            pass
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not 0 < temperature < float("inf"):
        raise ValueError(f"temperature {temperature!r}: a temperature must be a number above 0 (1 samples the model "
                         f"as trained, lower is more conservative), or {GREEDY!r} for the likeliest note every step")
    return float(temperature)
