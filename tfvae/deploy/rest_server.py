"""TF Serving's REST API over exported SavedModels: the explorer's local endpoint.

``Endpoint.handle(method, path, body)`` answers what ``tensorflow_model_server
--rest_api_port`` answers, for the models of one ``tfvae export``::

    POST /v1/models/<name>[/versions/<v>]:predict   {"instances": [...]} -> {"predictions": [...]}
                                                    {"inputs": ...}      -> {"outputs": ...}
    GET  /v1/models/<name>[/versions/<v>]           {"model_version_status": [...]}
    GET  /v1/models/<name>[/versions/<v>]/metadata  {"model_spec": ..., "metadata": {"signature_def": ...}}

Errors are TF Serving's: ``{"error": "<message>"}`` with the HTTP status of
its error code (400 for a malformed body or a bad input, 404 for an unknown
model or version or path). The models run with ``tfvae.runtime`` (the
SavedModel through ``tf.saved_model.load``), exactly as exported.
"""

import json
import os
import re

import numpy as np

from tfvae.deploy import runtime
from tfvae.deploy.formats import SIGNATURE
from tfvae.errors import TfvaeError

PREDICT = re.compile(r"/v1/models/([^/:]+)(?:/versions/(\d+))?:(classify|regress|predict)", re.I)
STATUS = re.compile(r"/v1/models(?:/([^/:]+))?(?:/versions/(\d+))?(/metadata)?", re.I)


class RestError(Exception):
    """An error answer: HTTP ``status`` and TF Serving's ``message``."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def _bad(message):
    return RestError(400, message)


def signature_def_map(path):
    """The ``signature_def`` map of a SavedModel's ``serve`` graph as TF Serving's metadata JSON."""
    from tfvae._tf import tf  # noqa: F401  (TensorFlow loads quietly before its protos)

    from google.protobuf import json_format
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    graph = next(g for g in proto.meta_graphs if "serve" in g.meta_info_def.tags)
    return {"signature_def": {name: json_format.MessageToDict(sig, preserving_proto_field_name=True)
                              for name, sig in graph.signature_def.items()}}


class Servable:
    """One model at one version: its ``runtime.Loaded`` and its metadata JSON."""

    def __init__(self, name, version, path):
        self.name, self.version, self.path = name, int(version), path
        self.loaded = runtime.load(path)
        self.signature_defs = signature_def_map(path)


class Endpoint:
    """TF Serving's REST API for ``{name: Servable}`` (one version each)."""

    def __init__(self, servables):
        self.servables = dict(servables)

    @classmethod
    def from_export(cls, export_dir, names=("decoder", "encoder")):
        """The newest version of each model under ``export_dir`` (``tfvae export``'s layout)."""
        found = {}
        for name in names:
            base = os.path.join(export_dir, name)
            versions = sorted(int(v) for v in os.listdir(base) if v.isdigit()) if os.path.isdir(base) else []
            if not versions:
                raise TfvaeError(f"{base} holds no SavedModel version; export it with tfvae export")
            found[name] = Servable(name, versions[-1], os.path.join(base, str(versions[-1])))
        return cls(found)

    # ---------------------------------------------------------- dispatch
    def handle(self, method, path, body=b""):
        """Answers one request: ``(http_status, json_object)``."""
        path = path.split("?", 1)[0]
        try:
            m = PREDICT.fullmatch(path)
            if method == "POST" and m:
                servable = self._servable(m.group(1), m.group(2))
                if m.group(3).lower() != "predict":
                    raise RestError(501, f"{m.group(3)} is not implemented here: the models have a predict signature")
                return 200, self.predict(servable, body)
            m = STATUS.fullmatch(path)
            if method == "GET" and m:
                if not m.group(1):
                    raise _bad("Missing model name in request.")
                servable = self._servable(m.group(1), m.group(2))
                return 200, (self.metadata(servable) if m.group(3) else self.status(servable))
            raise _bad(f"Malformed request: {method} {path}")
        except RestError as e:
            return e.status, {"error": e.message}

    def _servable(self, name, version):
        servable = self.servables.get(name)
        if servable is None or (version is not None and int(version) != servable.version):
            spec = f"Latest({name})" if version is None else f"Specific({name}, {int(version)})"
            raise RestError(404, f"Servable not found for request: {spec}")
        return servable

    # ---------------------------------------------------------- answers
    @staticmethod
    def status(servable):
        return {"model_version_status": [{"version": str(servable.version), "state": "AVAILABLE",
                                          "status": {"error_code": "OK", "error_message": ""}}]}

    @staticmethod
    def metadata(servable):
        return {"model_spec": {"name": servable.name, "signature_name": "", "version": str(servable.version)},
                "metadata": {"signature_def": servable.signature_defs}}

    def predict(self, servable, body):
        request = _parse(body)
        name = request.get("signature_name") or SIGNATURE
        if not isinstance(name, str) or name not in servable.loaded:
            raise _bad(f'Serving signature name: "{name}" not found in signature def')
        signature = servable.loaded[name]
        rows = "instances" in request
        inputs = _rows_to_inputs(request["instances"], signature) if rows else \
            _columns_to_inputs(request["inputs"], signature)
        try:
            outputs = signature(**inputs)
        except (TfvaeError, ValueError, TypeError) as e:
            raise _bad(str(e)) from None
        except Exception as e:  # tf.errors.OpError: TensorFlow rejected the values
            raise _bad(str(getattr(e, "message", e)).strip()) from None
        return _rows_answer(outputs) if rows else _columns_answer(outputs)


# ----------------------------------------------------------- request bodies
def _parse(body):
    try:
        request = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except (UnicodeDecodeError, ValueError) as e:
        raise _bad(f"JSON Parse error: {e}") from None
    if not isinstance(request, dict):
        raise _bad("JSON Value: is not an object; the request body must be a JSON object")
    if ("instances" in request) == ("inputs" in request):
        if "instances" in request:
            raise _bad("Not formatted correctly expecting only one of 'inputs' or 'instances' keys exists")
        raise _bad("Missing 'inputs' or 'instances' key")
    return request


def _rows_to_inputs(instances, signature):
    """Row format: a list with one entry per example; an object of inputs, or a bare value for one input."""
    if not isinstance(instances, list) or not instances:
        raise _bad("Expecting 'instances' to be a non-empty list/array")
    names = sorted(signature.inputs)
    if all(isinstance(r, dict) for r in instances):
        for i, row in enumerate(instances):
            if set(row) != set(names):
                raise _bad(f"Failed to process element: {i} of 'instances' list. Expecting object with the "
                           f"inputs {', '.join(names)}, got {', '.join(sorted(row)) or 'none'}")
        return {k: _array([r[k] for r in instances], signature, k) for k in names}
    if any(isinstance(r, dict) for r in instances):
        raise _bad("Expecting all elements of 'instances' to be objects, or none of them")
    if len(names) != 1:
        raise _bad(f"The signature has several inputs ({', '.join(names)}): each element of 'instances' must be "
                   "an object naming them")
    return {names[0]: _array(instances, signature, names[0])}


def _columns_to_inputs(inputs, signature):
    """Columnar format: ``{input: batch}``, or the bare batch for a single input."""
    names = sorted(signature.inputs)
    if isinstance(inputs, dict):
        if set(inputs) != set(names):
            raise _bad(f"'inputs' must name the inputs {', '.join(names)}, got {', '.join(sorted(inputs)) or 'none'}")
        return {k: _array(v, signature, k) for k, v in inputs.items()}
    if len(names) != 1:
        raise _bad(f"The signature has several inputs ({', '.join(names)}): 'inputs' must be an object naming them")
    return {names[0]: _array(inputs, signature, names[0])}


def _array(value, signature, name):
    dtype = signature.inputs[name].dtype
    try:
        array = np.asarray(value)
        if array.dtype == object or array.dtype.kind not in "biuf":
            raise ValueError("not a rectangular array of numbers")
        return array.astype(dtype)
    except (ValueError, TypeError, OverflowError) as e:
        raise _bad(f"input {name!r}: expected a rectangular array of {np.dtype(dtype).name} ({e})") from None


def _rows_answer(outputs):
    n = len(next(iter(outputs.values())))
    lists = {k: np.asarray(v).tolist() for k, v in outputs.items()}
    if len(lists) == 1:
        return {"predictions": next(iter(lists.values()))}
    return {"predictions": [{k: v[i] for k, v in lists.items()} for i in range(n)]}


def _columns_answer(outputs):
    lists = {k: np.asarray(v).tolist() for k, v in outputs.items()}
    return {"outputs": next(iter(lists.values())) if len(lists) == 1 else lists}
