"""Clients of a TensorFlow Serving server (what ``tfvae sample-remote`` decodes with).

* ``RestClient`` speaks TF Serving's documented JSON API over HTTP (port
  8501): ``POST /v1/models/<name>[/versions/<v>]:predict`` with either the row
  format ``{"instances": [...]}`` (answer ``{"predictions": [...]}``) or the
  columnar format ``{"inputs": {...}}`` (answer ``{"outputs": ...}``), and
  ``GET /v1/models/<name>/metadata`` for the signatures. Only the standard
  library is used (urllib).
* ``GrpcClient`` calls ``PredictionService`` (port 8500) with
  ``tensorflow_serving.apis`` ``PredictRequest`` protos (needs the
  ``serving`` extra: tensorflow-serving-api, grpcio).

A server's ``{"error": ...}`` answer (or a gRPC status) becomes a
``ServingError`` with the server's message. Sampling itself (seed, z, labels,
grid) is ``tfvae.pictures.samples``' one path, for every decoder.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

import numpy as np

from tfvae.deploy.formats import SIGNATURE  # noqa: F401  (defined once)
from tfvae.errors import TfvaeError


class ServingError(TfvaeError):
    """The model server answered with an error, or could not be reached."""


# ------------------------------------------------------------- signatures
def signature_inputs(signature_def_map, signature_name=SIGNATURE):
    """Input names, dtypes and shapes of one signature in a metadata answer.

    Args:
        signature_def_map: the ``SignatureDefMap`` as JSON (field names as in the
            proto: ``signature_def`` / ``inputs`` / ``tensor_shape`` / ``dim``).
        signature_name: which signature.

    Returns:
        ``{name: {"dtype": "DT_FLOAT", "shape": [-1, 128]}}`` (-1 = any size).
    """
    sigs = signature_def_map.get("signature_def", {})
    if signature_name not in sigs:
        raise ServingError(f"the server's model has no signature {signature_name!r} (it has: {', '.join(sorted(sigs))})")
    out = {}
    for name, info in sigs[signature_name].get("inputs", {}).items():
        shape = info.get("tensor_shape", {})
        dims = None if shape.get("unknown_rank") else [int(d.get("size", 0)) for d in shape.get("dim", [])]
        out[name] = {"dtype": info.get("dtype", "DT_INVALID"), "shape": dims}
    return out


def latent_dim_of(inputs, model_name):
    """The width of the ``z`` input of a decoder signature (from ``signature_inputs``)."""
    shape = inputs.get("z", {}).get("shape")
    if not shape or len(shape) != 2 or shape[-1] < 1:
        raise ServingError(f"model {model_name!r} has no input z of shape [batch, latent_dim] "
                           f"(inputs: {json.dumps(inputs)}); is it a tfvae decoder? pass --latent_dim")
    return shape[-1]


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


# ------------------------------------------------------------------- REST
class RestClient:
    """TF Serving REST API client for one model.

    Args:
        url: server root, e.g. ``http://localhost:8501``.
        model: model name (``decoder``, ``encoder``).
        version: model version (default: the server's latest).
        signature_name: signature to call (default ``serving_default``).
        timeout: seconds per request.
    """

    def __init__(self, url, model, version=None, signature_name=SIGNATURE, timeout=30.0):
        if "://" not in url:
            url = "http://" + url
        self.url = url.rstrip("/")
        self.model = model
        self.version = version
        self.signature_name = signature_name
        self.timeout = timeout

    @property
    def model_url(self):
        path = f"{self.url}/v1/models/{urllib.parse.quote(self.model)}"
        return path + (f"/versions/{int(self.version)}" if self.version is not None else "")

    def _call(self, url, body=None):
        data = None if body is None else json.dumps(body, default=_jsonable).encode()
        req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                text = resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            raise ServingError(f"{url}: HTTP {e.code}: {_one_line(_error_of(text) or text or e.reason)}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ServingError(f"cannot reach the model server at {self.url} ({reason}); is it running?") from None
        try:
            answer = json.loads(text)
        except ValueError:
            raise ServingError(f"{url}: the answer is not JSON: {text.strip()[:200]!r}") from None
        if isinstance(answer, dict) and "error" in answer:
            raise ServingError(f"{url}: {_one_line(answer['error'])}")
        return answer

    def predict_rows(self, instances):
        """Row format: ``{"instances": instances}``.

        Args:
            instances: one entry per example: a dict ``{input: value}``, or the
                bare value when the signature has a single input.

        Returns:
            the ``predictions`` list: one entry per example, a dict
            ``{output: value}`` or the bare value when there is one output.
        """
        body = {"instances": instances}
        if self.signature_name != SIGNATURE:
            body["signature_name"] = self.signature_name
        answer = self._call(self.model_url + ":predict", body)
        if "predictions" not in answer:
            raise ServingError(f"{self.model_url}:predict: no 'predictions' in the answer (keys: {sorted(answer)})")
        return answer["predictions"]

    def predict_columns(self, inputs):
        """Columnar format: ``{"inputs": inputs}``.

        Args:
            inputs: ``{input: batch}`` (or the bare batch for a single input).

        Returns:
            the ``outputs``: ``{output: batch}``, or the bare batch when there is one output.
        """
        body = {"inputs": inputs}
        if self.signature_name != SIGNATURE:
            body["signature_name"] = self.signature_name
        answer = self._call(self.model_url + ":predict", body)
        if "outputs" not in answer:
            raise ServingError(f"{self.model_url}:predict: no 'outputs' in the answer (keys: {sorted(answer)})")
        return answer["outputs"]

    def predict(self, inputs, columnar=True):
        """Calls the model on a batch of named inputs.

        Args:
            inputs: ``{input: array [N, ...]}``.
            columnar: send the columnar format (else the row format).

        Returns:
            ``{output: np.ndarray}``, or one ``np.ndarray`` when the signature has one output.
        """
        if columnar:
            out = self.predict_columns({k: np.asarray(v) for k, v in inputs.items()})
            return {k: np.asarray(v) for k, v in out.items()} if isinstance(out, dict) else np.asarray(out)
        n = {len(v) for v in inputs.values()}
        if len(n) != 1:
            raise ServingError(f"inputs have different batch sizes: { {k: len(v) for k, v in inputs.items()} }")
        rows = [{k: np.asarray(v[i]) for k, v in inputs.items()} for i in range(n.pop())]
        preds = self.predict_rows(rows)
        if preds and isinstance(preds[0], dict):
            return {k: np.asarray([p[k] for p in preds]) for k in preds[0]}
        return np.asarray(preds)

    def metadata(self):
        """``GET .../metadata``: the answer, with the model's ``signature_def`` map."""
        return self._call(self.model_url + "/metadata")

    def inputs(self):
        """``signature_inputs`` of this client's signature, from the metadata endpoint."""
        meta = self.metadata()
        try:
            sig_map = meta["metadata"]["signature_def"]
        except (KeyError, TypeError):
            raise ServingError(f"{self.model_url}/metadata: no metadata.signature_def in the answer") from None
        return signature_inputs(sig_map, self.signature_name)


def _one_line(text, limit=500):
    """A server's (often multi-line) message as one line of at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_of(text):
    try:
        answer = json.loads(text)
    except ValueError:
        return None
    return answer.get("error") if isinstance(answer, dict) else None


# ------------------------------------------------------------------- gRPC
class GrpcClient:
    """TF Serving gRPC ``PredictionService`` client for one model.

    Args:
        target: ``host:port`` of the gRPC endpoint (8500 by default in TF Serving).
        model: model name.
        version: model version (default: the server's latest).
        signature_name: signature to call.
        timeout: seconds per request.
    """

    def __init__(self, target, model, version=None, signature_name=SIGNATURE, timeout=30.0):
        try:
            import grpc

            from tfvae._tf import tf
            from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc
        except ImportError as e:
            raise TfvaeError(f"gRPC needs the serving extra ({e}); pip install 'tfvae[serving]'") from None
        self._grpc, self._tf = grpc, tf
        self._predict_pb2, self._meta_pb2 = predict_pb2, get_model_metadata_pb2
        self.target, self.model, self.version = target, model, version
        self.signature_name, self.timeout = signature_name, timeout
        self.channel = grpc.insecure_channel(target)
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _spec(self, spec):
        spec.name = self.model
        if self.version is not None:
            spec.version.value = int(self.version)

    def _rpc(self, method, request):
        try:
            return method(request, timeout=self.timeout)
        except self._grpc.RpcError as e:
            code = e.code().name if hasattr(e, "code") else "UNKNOWN"
            details = _one_line(e.details() if hasattr(e, "details") else str(e))
            if code in ("UNAVAILABLE", "DEADLINE_EXCEEDED"):
                raise ServingError(f"cannot reach the model server at {self.target} ({code}: {details}); "
                                   "is it running?") from None
            raise ServingError(f"{self.target} model {self.model!r}: {code}: {details}") from None

    def predict(self, inputs):
        """``Predict`` on a batch.

        Args:
            inputs: ``{input: array}``; dtypes are sent as given (use float32
                for ``z``/``images``, int64 for ``label``).

        Returns:
            ``{output: np.ndarray}``.
        """
        request = self._predict_pb2.PredictRequest()
        self._spec(request.model_spec)
        request.model_spec.signature_name = self.signature_name
        for name, value in inputs.items():
            request.inputs[name].CopyFrom(self._tf.make_tensor_proto(np.asarray(value)))
        response = self._rpc(self.stub.Predict, request)
        return {name: self._tf.make_ndarray(t) for name, t in response.outputs.items()}

    def inputs(self):
        """``signature_inputs`` of this client's signature, from ``GetModelMetadata``."""
        from google.protobuf import json_format

        request = self._meta_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
        self._spec(request.model_spec)
        response = self._rpc(self.stub.GetModelMetadata, request)
        sig_map = self._meta_pb2.SignatureDefMap()
        if "signature_def" not in response.metadata or not response.metadata["signature_def"].Unpack(sig_map):
            raise ServingError(f"{self.target} model {self.model!r}: no signature_def in GetModelMetadata's answer")
        return signature_inputs(json_format.MessageToDict(sig_map, preserving_proto_field_name=True),
                                self.signature_name)
