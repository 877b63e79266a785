"""The evaluate stage's MLflow run, found as a user finds it: nested under the training run."""

import mlflow


def evaluation_run(client: mlflow.MlflowClient, training_run_id: str):
    """The latest evaluation run nested under a training run."""
    training = client.get_run(training_run_id)
    return client.search_runs(
        [training.info.experiment_id],
        f"tags.mlflow.parentRunId = '{training_run_id}' and tags.stage = 'evaluate'",
        order_by=["attributes.start_time DESC"],
    )[0]
