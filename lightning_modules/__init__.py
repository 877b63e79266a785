"""Lightning adapters: the MusicVAE LightningModule and the LightningDataModule over tensor shards."""
