"""Hearing the results: one HTML page with each window's piano roll and a player, which plays it in the browser
with a small Web Audio synth (web/synth.js, the studio's), and, where FluidSynth and a General MIDI soundfont are
installed, its WAV rendering beside it (`synthesizer()` says why not)."""

from __future__ import annotations

import base64
import html
import json
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
)
SAMPLE_RATE = 22050
SYNTH = Path(__file__).parent / "web" / "synth.js"
# Plays window i of SEQUENCES through the synth; `listening.scheduled` counts the notes, for the browser test.
PLAYER = """const listening = { scheduled: 0, out: null };
async function playWindow(i) {
  const ctx = synth.context();
  await ctx.resume();
  if (listening.out) listening.out.disconnect();
  listening.out = ctx.createGain();
  listening.out.gain.value = 0.8;
  listening.out.connect(ctx.destination);
  listening.scheduled += synth.schedule(SEQUENCES[i], listening.out, ctx.currentTime + 0.05).scheduled;
}
document.querySelectorAll("button[data-window]").forEach(
  (b) => b.addEventListener("click", () => playWindow(Number(b.dataset.window))));"""


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
        done = subprocess.run(
            [
                binary,
                "-ni",
                "-q",
                "-R",
                "0",
                "-C",
                "0",
                "-g",
                "0.8",
                "-r",
                str(SAMPLE_RATE),
                "-F",
                str(out),
                soundfont,
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"fluidsynth failed on {out.name}: {done.stderr.strip()[-500:]}")
    return out


def rms(path: Path) -> float:
    """Root mean square of a 16-bit WAV, in full scale (0 = silence, ~0.7 = a full-scale sine)."""
    with wave.open(str(path)) as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64) / 32768
    return float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def page(title: str, sections: list[tuple[str, list[dict]]]) -> str:
    """An HTML page: per section a heading, then per window its piano roll (embedded PNG), its label, a play button
    (Web Audio, no install) and, when rendered, audio players. Each window is {label, png, sequence (notes as the
    synth takes them), wav: sources}; a player lists its sources in order: a path beside the page, then (say) the
    same file through MLflow's artifact route, so one page plays both from disk and inside the MLflow UI."""
    body, sequences = [f"<h1>{html.escape(title)}</h1>"], []
    for heading, windows in sections:
        body.append(f"<h2>{html.escape(heading)}</h2>")
        for window in windows:
            label = html.escape(window["label"])
            audio = "".join(f'<source src="{html.escape(s)}" type="audio/wav">' for s in window["wav"])
            body.append(
                f'<div class="window"><img alt="{label}" src="data:image/png;base64,'
                f'{base64.b64encode(window["png"]).decode()}"><p>{label}<br>'
                f'<button type="button" data-window="{len(sequences)}">&#9654; Play</button>'
                + (f' <audio controls preload="none">{audio}</audio>' if audio else "")
                + "</p></div>"
            )
            sequences.append(window["sequence"])
    style = ".window{display:flex;align-items:center;gap:1em}.window img{max-width:60%}"
    script = f"{SYNTH.read_text()}\nconst SEQUENCES = {json.dumps(sequences)};\n{PLAYER}"
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<style>{style}</style></head><body style="font-family:sans-serif">'
        + "\n".join(body)
        + f"<script>{script}</script></body></html>\n"
    )
