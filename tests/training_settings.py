"""params.yaml's `train` section made short for tests: no wall-clock cap, every step logged, a small monitor."""

from pathlib import Path

import yaml

from lightning_modules.settings import TrainSettings, train_settings

PARAMS = Path(__file__).resolve().parents[1] / "params.yaml"


def settings(**changes) -> TrainSettings:
    # A small learning monitor: the tests validate often, and it decodes its windows greedily each time.
    return train_settings(
        yaml.safe_load(PARAMS.read_text())["train"]
        | {"max_minutes": None, "log_every_n_steps": 1, "monitor": {"windows": 32, "greedy": 4}}
        | changes
    )
