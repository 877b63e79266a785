"""What the tiers' tests share: hand-made and adversarial MIDI, reference paths, runs of the real stages, and the
systems they drive."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params.yaml"
