"""Training runs: planning (``plan``), callbacks, run directories and the run loop (``run``).

``run_training(model_overrides, data_config, train_config)`` is what
``tfvae train`` calls; ``plan`` and ``compile_model`` are what the benchmarks
use to train exactly as it does.
"""

from tfvae.config import LR_SCHEDULES, STRATEGIES, XLA_MODES, DataConfig, TrainConfig  # noqa: F401
from tfvae.engine.distribute import is_chief, make_strategy, parse_tf_config, sync_from_chief  # noqa: F401
from tfvae.training.callbacks import (EpochTimer, KLWarmup, RunRecorder, TensorBoardWriter, TimeBudget,  # noqa: F401
                                      cosine_factor, finish_images)
from tfvae.training.plan import Feed, build_for_training, compile_model, learning_rate, plan_feed, use_xla  # noqa: F401
from tfvae.training.rundir import default_run_dir, prepare_run_dir, read_history  # noqa: F401
from tfvae.training.run import run_training  # noqa: F401
