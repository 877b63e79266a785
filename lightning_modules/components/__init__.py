"""Plain PyTorch pieces that the LightningModule injects and trains: the model, its objective and schedules."""
