"""The files beside an export that tell TF Serving (and a person) how to serve it.

``models.config`` (TF Serving's ``--model_config_file``), ``batching_parameters.txt``
(``--batching_parameters_file``) and ``SERVING.md``.
"""

import os

from tfvae.configs import EXPORTED_MODELS as MODEL_NAMES, SIGNATURE

REST_PORT, GRPC_PORT = 8501, 8500
# TF Serving's server-side batching; see batching_parameters().
MAX_BATCH_SIZE = 256
BATCH_TIMEOUT_MICROS = 1000
MAX_ENQUEUED_BATCHES = 100


def models_config(export_dir):
    """TF Serving ``--model_config_file`` text: both models, absolute base paths."""
    lines = ["# TensorFlow Serving model config written by 'tfvae export'.",
             "# Each model serves the highest numbered version under its base_path.",
             "model_config_list {"]
    for name in MODEL_NAMES:
        lines += ["  config {", f'    name: "{name}"', f'    base_path: "{os.path.join(export_dir, name)}"',
                  '    model_platform: "tensorflow"', "  }"]
    return "\n".join(lines + ["}"]) + "\n"


def batching_parameters(threads=None):
    """TF Serving ``--batching_parameters_file`` text.

    Args:
        threads: batch threads (default: this machine's CPU cores; set it to
            the serving machine's).
    """
    threads = threads or os.cpu_count() or 1
    return (
        "# Server-side batching for tensorflow_model_server --enable_batching.\n"
        "# Requests arriving within batch_timeout_micros are run as one batch of up to\n"
        "# max_batch_size rows; num_batch_threads = CPU cores of the serving machine.\n"
        f"max_batch_size {{ value: {MAX_BATCH_SIZE} }}\n"
        f"batch_timeout_micros {{ value: {BATCH_TIMEOUT_MICROS} }}\n"
        f"num_batch_threads {{ value: {threads} }}\n"
        f"max_enqueued_batches {{ value: {MAX_ENQUEUED_BATCHES} }}\n"
    )


def serving_readme(export_dir, model, version):
    """``SERVING.md``: how to serve the export and call it.

    Args:
        export_dir: the export root (absolute).
        model: the exported model (for shapes and labels).
        version: the highest version present (the one a server serves).
    """
    cfg = model.config
    latent, shape = cfg.latent_dim, list(cfg.input_shape)
    k = model.num_classes
    label = f", `label` int64 `[None]` (0..{k - 1})" if k else ""
    label_row = ', "label": 0' if k else ""
    label_col = ', "label": [0]' if k else ""
    conf, batching = os.path.join(export_dir, "models.config"), os.path.join(export_dir, "batching_parameters.txt")
    return f"""# Serving this export

Written by `tfvae export` (latest version: {version}). Both models are plain
SavedModels (tag `serve`, signature `{SIGNATURE}`); tfvae is not needed to run them.

| model | inputs | outputs |
|---|---|---|
| `decoder` | `z` float32 `[None, {latent}]`{label} | `images` float32 `{[None] + shape}`: decoder means in [0, 1] |
| `encoder` | `images` float32 `{[None] + shape}` in [0, 1]{label} | `z_mean`, `z_log_var` float32 `[None, {latent}]` |

Shapes and dtypes are checked inside TensorFlow: a `z` of another width, an image of
another size, or a tensor of another dtype fails with TensorFlow's `InvalidArgumentError`
(over REST: an HTTP 400 answer `{{"error": "..."}}`; over gRPC: `INVALID_ARGUMENT`).
Python and NumPy values passed to the signature in-process are first converted to
the declared dtype; JSON numbers are converted by the server the same way.

## TensorFlow Serving

```sh
tensorflow_model_server --rest_api_port={REST_PORT} --port={GRPC_PORT} \\
  --model_config_file={conf} \\
  --enable_batching --batching_parameters_file={batching}
```

With Docker (the export is mounted at `/models`, and at its own path too because
`models.config` holds absolute base paths):

```sh
docker run -p {REST_PORT}:{REST_PORT} -p {GRPC_PORT}:{GRPC_PORT} -v {export_dir}:/models -v {export_dir}:{export_dir}:ro \\
  tensorflow/serving --model_config_file=/models/models.config \\
  --enable_batching --batching_parameters_file=/models/batching_parameters.txt
```

New versions written by `tfvae export` into the same directory are picked up by
the running server (it serves the highest version).

## REST

```sh
# row format: one object per example
python -c 'import json; print(json.dumps({{"instances": [{{"z": [0.0] * {latent}{label_row}}}]}}))' |
  curl -s -X POST -d @- http://localhost:{REST_PORT}/v1/models/decoder:predict
# -> {{"predictions": [ <[H][W][C] nested lists> ]}}

# columnar format: one array per input
python -c 'import json; print(json.dumps({{"inputs": {{"z": [[0.0] * {latent}]{label_col}}}}}))' |
  curl -s -X POST -d @- http://localhost:{REST_PORT}/v1/models/decoder:predict
# -> {{"outputs": [ ... ]}}

curl -s http://localhost:{REST_PORT}/v1/models/decoder/metadata   # signature_def, shapes
curl -s http://localhost:{REST_PORT}/v1/models/decoder/versions/{version}   # status
```

Errors come back as `{{"error": "..."}}`.

## Clients

```sh
tfvae sample-remote --url http://localhost:{REST_PORT} --model decoder --num 16 --output samples.png
tfvae sample-remote --grpc localhost:{GRPC_PORT} --model decoder --num 16 --output samples.png
```

In Python without a server:

```python
import tensorflow as tf, keras
decode = tf.saved_model.load("{os.path.join(export_dir, "decoder", str(version))}").signatures["{SIGNATURE}"]
images = decode(z=tf.random.normal([16, {latent}]))["images"]
layer = keras.layers.TFSMLayer("{os.path.join(export_dir, "decoder", str(version))}", call_endpoint="{SIGNATURE}")
```

Inspect: `saved_model_cli show --dir {os.path.join(export_dir, "decoder", str(version))} --all`.
"""
