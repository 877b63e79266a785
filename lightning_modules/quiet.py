"""Lightning's messages that tell a user of this project nothing, silenced at their source, and its progress bar
without the "Epoch 12/-2" that unbounded epochs print (training here stops by steps or minutes)."""

from __future__ import annotations

import logging
import warnings

from lightning.pytorch.callbacks import RichProgressBar

# Each is true of every run and needs no action: the train stage resumes from models/ on purpose, Lightning calls
# a torch API that torch deprecated, and the model summary estimates bf16 sizes at 32 bits.
WARNINGS = (
    r"Checkpoint directory .* exists and is not empty",
    r"`isinstance\(treespec, LeafSpec\)` is deprecated",
    r"Precision bf16-mixed is not supported by the model summary",
)


def _not_an_advert(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("💡 Tip")


def silence() -> None:
    for message in WARNINGS:
        warnings.filterwarnings("ignore", message=message)
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_not_an_advert)


class ProgressBar(RichProgressBar):
    def _get_train_description(self, current_epoch: int) -> str:
        return f"Epoch {current_epoch}"
