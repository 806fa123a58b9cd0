"""``tfvae.evaluate``: its old names, now in ``tfvae.evaluation`` (estimator, report, run), kept for this release."""

from tfvae.data import load_eval_images  # noqa: F401
from tfvae.evaluation.estimator import (  # noqa: F401
    ACTIVE_UNIT_THRESHOLD, active_units, default_batch, evaluate)
from tfvae.evaluation.report import TABLE_ROWS, format_table  # noqa: F401
from tfvae.evaluation.run import run_eval  # noqa: F401
