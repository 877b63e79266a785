"""Hearing the results: MIDI rendered to WAV by FluidSynth with a General MIDI soundfont, and one HTML page with
the piano rolls and audio players. Both are optional: without FluidSynth or a soundfont, `synthesizer()` says why."""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2")
SAMPLE_RATE = 22050


def synthesizer() -> tuple[tuple[str, str] | None, str]:
    """(fluidsynth binary, soundfont), or None and the reason (e.g. Debian's `fluidsynth fluid-soundfont-gm`)."""
    binary = shutil.which("fluidsynth")
    soundfont = next((s for s in SOUNDFONTS if Path(s).exists()), None)
    if binary is None:
        return None, "fluidsynth is not installed (Debian: apt-get install fluidsynth fluid-soundfont-gm)"
    if soundfont is None:
        return None, f"no General MIDI soundfont in {', '.join(SOUNDFONTS)} (Debian: fluid-soundfont-gm)"
    return (binary, soundfont), f"fluidsynth with {soundfont}"


def render_wav(midi: bytes, out: Path, synth: tuple[str, str]) -> Path:
    """MIDI bytes → a 16-bit stereo WAV at SAMPLE_RATE. Reverb and chorus are off so that a render is repeatable."""
    binary, soundfont = synth
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.mid"
        source.write_bytes(midi)
        done = subprocess.run([binary, "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.8", "-r", str(SAMPLE_RATE),
                               "-F", str(out), soundfont, str(source)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"fluidsynth failed on {out.name}: {done.stderr.strip()[-500:]}")
    return out


def rms(path: Path) -> float:
    """Root mean square of a 16-bit WAV, in full scale (0 = silence, ~0.7 = a full-scale sine)."""
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64) / 32768
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def page(title: str, sections: list[tuple[str, bytes, list[tuple[str, list[str]]]]]) -> str:
    """An HTML page: per section a heading, its piano roll (embedded PNG) and audio players. Each player lists
    several sources in order: a path beside the page, then (say) the same file through MLflow's artifact route, so
    one page plays both from disk and inside the MLflow UI."""
    body = [f"<h1>{html.escape(title)}</h1>"]
    for heading, png, players in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        body.append(f'<img alt="{html.escape(heading)}" src="data:image/png;base64,'
                    f'{base64.b64encode(png).decode()}" style="max-width:100%">')
        for label, sources in players:
            options = "".join(f'<source src="{html.escape(s)}" type="audio/wav">' for s in sources)
            body.append(f"<p>{html.escape(label)}<br><audio controls preload=\"none\">{options}</audio></p>")
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html.escape(title) +
            "</title></head><body style=\"font-family:sans-serif\">" + "\n".join(body) + "</body></html>\n")
