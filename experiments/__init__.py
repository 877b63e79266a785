"""Named experiment configs and comparisons drawn from MLflow."""
