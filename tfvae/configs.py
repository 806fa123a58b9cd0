"""``tfvae.configs``: the 0.1 module of every config, kept for this release: ``tfvae.config`` (data, training,
choices) and ``tfvae.models.config.VAEConfig`` (the model)."""

from tfvae.config import *  # noqa: F401,F403
from tfvae.config import (  # noqa: F401  (what ``import *`` leaves out)
    AUGMENTATIONS, BINARIZE_MODES, LR_SCHEDULES, STRATEGIES, STRATEGY_HELP, XLA_MODES, DataConfig, TrainConfig)
from tfvae.deploy.formats import (  # noqa: F401  (0.1 defined these here too)
    EXPORT_FORMATS, EXPORTED_MODELS, FORMAT_EXTRA, FORMAT_SUFFIX, LITERT_QUANTIZATIONS, ONNX_OPSET, SIGNATURE,
    parse_formats)
from tfvae.models.config import VAEConfig  # noqa: F401
from tfvae.models.kinds import names as _kind_names

MODEL_KINDS = _kind_names()
