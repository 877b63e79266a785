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
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 < temperature < float("inf"):
        raise ValueError(
            f"temperature {temperature!r}: a temperature must be a number above 0 (1 samples the model "
            f"as trained, lower is more conservative), or {GREEDY!r} for the likeliest note every step"
        )
    return float(temperature)


# Past this a softmax is all but uniform: every step a random class (measured: at 10 a 2-bar melody is noise).
NOISE_TEMPERATURE = 10.0


def noise_warning(temperature: float | str) -> str | None:
    """Words for a temperature so high that the model no longer shapes what it draws."""
    if temperature != GREEDY and temperature > NOISE_TEMPERATURE:
        return (
            f"at temperature {temperature:g} every note is about equally likely: the output is noise, not the "
            f"model's; 0.1 to 2 is the useful range"
        )
    return None
