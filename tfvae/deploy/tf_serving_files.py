"""The files beside an export that tell TF Serving (and a person) how to serve it.

``models.config`` (TF Serving's ``--model_config_file``), ``batching_parameters.txt``
(``--batching_parameters_file``) and ``SERVING.md``.
"""

import os

from tfvae.deploy.formats import EXPORTED_MODELS as MODEL_NAMES, ONNX_OPSET, SIGNATURE

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


def serving_readme(export_dir, model, version, portable=None, litert_quantize=None):
    """``SERVING.md``: how to serve the export and call it.

    Args:
        export_dir: the export root (absolute).
        model: the exported model (for shapes and labels).
        version: the highest SavedModel version present (the one a server serves), or None.
        portable: the LiteRT and ONNX files present, ``{format: {name: path}}``.
        litert_quantize: the quantization of the ``.tflite`` files if this export wrote them.
    """
    cfg = model.config
    latent, shape = cfg.latent_dim, list(cfg.input_shape)
    k = model.num_classes
    label = f", `label` int64 `[None]` (0..{k - 1})" if k else ""
    portable = portable or {}
    present = ([f"SavedModels `decoder/{version}/`, `encoder/{version}/` (tag `serve`, signature `{SIGNATURE}`)"]
               if version else [])
    present += [f"{FORMAT_TITLES[fmt]} " + ", ".join(f"`{os.path.basename(p)}` ({os.path.getsize(p) / 1e6:.2f} MB)"
                                                    for p in paths.values()) for fmt, paths in portable.items()]
    text = f"""# Serving this export

Written by `tfvae export`: {"; ".join(present)}.
tfvae is not needed to run them. Every format has the same inputs and outputs:

| model | inputs | outputs |
|---|---|---|
| `decoder` | `z` float32 `[None, {latent}]`{label} | `images` float32 `{[None] + shape}`: decoder means in [0, 1] |
| `encoder` | `images` float32 `{[None] + shape}` in [0, 1]{label} | `z_mean`, `z_log_var` float32 `[None, {latent}]` |
"""
    if version and model.can_sample:
        text += f"""
The SavedModel decoder has two more signatures, the model's prior (`--prior {cfg.prior}`): `prior_sample`
(`eps` float32 `[None, {latent}]` standard normal, `u` float32 `[None]` uniform in [0, 1), which picks a mixture
component) gives `z`, and `prior_log_prob` (`z`) gives `log_prob` `[None]`. Sample with
`decoder(z=prior_sample(eps=eps, u=u)["z"])`; for N(0, I), `z` is `eps`.
"""
    if version:
        text += _tf_serving(export_dir, model, version)
    if "litert" in portable:
        text += _litert(export_dir, model, litert_quantize)
    if "onnx" in portable:
        text += _onnx(export_dir, model)
    return text + _runtime_load(export_dir, model, version, portable)


FORMAT_TITLES = {"litert": "LiteRT", "onnx": "ONNX"}


def _z_code(model, batch=16):
    z = f"np.random.default_rng(0).standard_normal(({batch}, {model.config.latent_dim}), np.float32)"
    return z + (f', label=np.zeros({batch}, np.int64)' if model.num_classes else "")


def _tf_serving(export_dir, model, version):
    """The TF Serving, REST and client sections (SavedModels)."""
    latent = model.config.latent_dim
    k = model.num_classes
    label_row = ', "label": 0' if k else ""
    label_col = ', "label": [0]' if k else ""
    conf, batching = os.path.join(export_dir, "models.config"), os.path.join(export_dir, "batching_parameters.txt")
    return f"""
Shapes and dtypes of the SavedModels are checked inside TensorFlow: a `z` of another width, an image of
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


# Measured with the shipped better_weight (python bench/litert_quantize.py; bench/RESULTS.md): the decoder's
# file size, and the RMSE of its images against the float32 Keras decoder's, both decoding the float32 encoder
# means of the 10 000 MNIST test digits (pixels in [0, 1]); tests/test_formats.py holds them to about 2x that.
LITERT_QUANTIZE_TABLE = """| `--litert_quantize` | decoder.tflite | encoder.tflite | decoder RMSE against float32 | largest pixel error |
|---|---|---|---|---|
| `none` (float32) | 2.93 MB | 4.53 MB | 8.6e-08 | 2.8e-06 |
| `float16` | 1.47 MB | 2.27 MB | 6.4e-05 | 2.6e-03 |
| `dynamic_int8` | 0.77 MB | 1.16 MB | 5.5e-03 | 0.25 |

(The reconstruction RMSE against the digits themselves is 0.1497 in float32 and float16, 0.1500 with
dynamic_int8 weights in both encoder and decoder.)"""


def _litert(export_dir, model, quantize):
    decoder = os.path.join(export_dir, "decoder.tflite")
    how = (f"weights stored as `{quantize}` (`--litert_quantize {quantize}`)" if quantize and quantize != "none" else
           "weights in float32 (`--litert_quantize none`)" if quantize else
           "quantized as `runtime.load(path).metadata['litert_quantize']` says (an earlier export wrote them)")
    return f"""
## LiteRT: `decoder.tflite`, `encoder.tflite`

Converted by TensorFlow's converter from the same functions as the SavedModels, built-in ops only,
{how}; inputs and outputs are float32 (and int64 `label`) whatever the quantization. Run them with
`ai_edge_litert` (`pip install ai-edge-litert`; no TensorFlow needed). The signature runner takes any
batch size: it resizes its inputs to each call's shapes.

```python
import numpy as np
from ai_edge_litert.interpreter import Interpreter
decode = Interpreter(model_path="{decoder}", num_threads=2).get_signature_runner("{SIGNATURE}")
images = decode(z={_z_code(model)})["images"]
```

Without the signature runner, resize before each new batch size (the file declares a batch of 1;
`shape_signature` has -1 there): `interpreter.resize_tensor_input(index, [n, ...])`, then
`interpreter.allocate_tensors()`, `set_tensor`, `invoke`, `get_tensor`.

Quantization, measured with the shipped `better_weight` decoder on real test digits:

{LITERT_QUANTIZE_TABLE}
"""


def _onnx(export_dir, model):
    decoder = os.path.join(export_dir, "decoder.onnx")
    return f"""
## ONNX: `decoder.onnx`, `encoder.onnx`

Converted by `tf2onnx` (opset {ONNX_OPSET}) from the same functions as the SavedModels; the batch
dimension is symbolic (any size) and a cvae's `label` stays int64. Run them with ONNX Runtime
(`pip install onnxruntime`; no TensorFlow needed):

```python
import numpy as np, onnxruntime as ort
decode = ort.InferenceSession("{decoder}", providers=["CPUExecutionProvider"])
(images,) = decode.run(["images"], dict(z={_z_code(model)}))
```
"""


def _runtime_load(export_dir, model, version, portable):
    paths = ([os.path.join(export_dir, "decoder", str(version))] if version else []) + \
        [p["decoder"] for p in portable.values() if "decoder" in p]
    if not paths:
        return ""
    return f"""
## One loader for every format (with tfvae installed)

`tfvae.runtime.load(path)` picks the runtime from the path (a SavedModel directory: TensorFlow;
`.tflite`: ai_edge_litert; `.onnx`: onnxruntime) and returns the signatures by name, each called
with NumPy arrays by input name and returning a dict of NumPy arrays by output name:

```python
import numpy as np
from tfvae.deploy import runtime
decode = runtime.load("{paths[-1]}")["{SIGNATURE}"]
images = decode(z={_z_code(model)})["images"]
```

`tfvae generate --exported {paths[-1]} --output samples.png` samples from any of them.
"""
