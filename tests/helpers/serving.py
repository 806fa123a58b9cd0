"""TF Serving's two APIs as loopback servers over an export (no TF Serving binary can be installed here).

``RestHandler`` speaks TF Serving's documented JSON predict / metadata protocol, ``grpc_server`` its gRPC
``PredictionService``; both run the exported SavedModels the way TF Serving loads them (``Servable``). They bind
127.0.0.1 on an ephemeral port. ``serve(export_dir)`` runs both until its ``with`` block ends.
"""

import contextlib
import json
import os
import re
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import tensorflow as tf

from tfvae import checkpoints, models
from tfvae.deploy import export


def save_checkpoint(directory, model_config):
    """A checkpoint of a freshly built (untrained) model; returns the model."""
    model = models.build_model(model_config)
    checkpoints.save(str(directory), model, {"model": model.config.to_dict(),
                                             "data": {"dataset": "mnist", "binarize": "dynamic"}}, {"epoch": 1})
    return model


class Servable:
    """A SavedModel run the way TF Serving runs it.

    Loaded with the session-based loader (restore op + signature tensor names,
    as TF Serving's C++ ``LoadSavedModel``), not ``tf.saved_model.load``, so
    the loopback servers also check that the export restores there.
    """

    def __init__(self, path):
        from tensorflow_serving.apis import get_model_metadata_pb2

        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            meta = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], path)
        self.signature_def_map = get_model_metadata_pb2.SignatureDefMap()
        for k, v in meta.signature_def.items():
            self.signature_def_map.signature_def[k].CopyFrom(v)
        sig = meta.signature_def[export.SIGNATURE]
        self.inputs = {k: (v.name, tf.dtypes.as_dtype(v.dtype).as_numpy_dtype) for k, v in sig.inputs.items()}
        self.outputs = {k: v.name for k, v in sig.outputs.items()}

    def __call__(self, inputs):
        """Runs the signature on ``{input: array-like}`` cast to its dtypes; ``{output: np.ndarray}``."""
        if set(inputs) != set(self.inputs):
            raise ValueError(f"inputs {sorted(inputs)} do not match the signature's {sorted(self.inputs)}")
        feed = {self.inputs[k][0]: np.asarray(v, dtype=self.inputs[k][1]) for k, v in inputs.items()}
        return self.session.run(self.outputs, feed_dict=feed)


def load_servables(export_dir):
    """{model name: Servable} of the latest versions."""
    version = str(export.existing_versions(export_dir)[-1])
    return {name: Servable(os.path.join(export_dir, name, version)) for name in export.MODEL_NAMES}


class RestHandler(BaseHTTPRequestHandler):
    """TF Serving's REST API: predict (row and columnar) and metadata."""

    servables = {}
    PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?(:predict|/metadata)$")

    def log_message(self, *a):
        pass

    def _answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _servable(self, kind):
        from google.protobuf import json_format

        m = self.PATH.match(self.path)
        if not m or m.group(3) != kind:
            return self._answer(404, {"error": f"Malformed request: {self.command} {self.path}"})
        if m.group(1) not in self.servables:
            return self._answer(404, {"error": f"Servable not found for request: Latest({m.group(1)})"})
        servable = self.servables[m.group(1)]
        return m.group(1), servable, json_format.MessageToDict(servable.signature_def_map,
                                                               preserving_proto_field_name=True,
                                                               always_print_fields_with_no_presence=True)

    def do_GET(self):
        found = self._servable("/metadata")
        if found:
            name, _, sig_json = found
            self._answer(200, {"model_spec": {"name": name, "signature_name": "", "version": "1"},
                               "metadata": {"signature_def": sig_json}})

    def do_POST(self):
        found = self._servable(":predict")
        if not found:
            return
        _, fn, _ = found
        try:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            names = sorted(fn.inputs)
            if "instances" in body:
                rows = body["instances"]
                if rows and isinstance(rows[0], dict):
                    inputs = {k: [r[k] for r in rows] for k in rows[0]}
                elif len(names) == 1:
                    inputs = {names[0]: rows}
                else:
                    raise ValueError("instances must be objects when the signature has several inputs")
                out = fn(inputs)
                n = len(next(iter(out.values())))
                preds = [{k: v[i].tolist() for k, v in out.items()} for i in range(n)]
                self._answer(200, {"predictions": [p.popitem()[1] for p in preds] if len(out) == 1 else preds})
            elif "inputs" in body:
                cols = body["inputs"] if isinstance(body["inputs"], dict) else {names[0]: body["inputs"]}
                out = {k: v.tolist() for k, v in fn(cols).items()}
                self._answer(200, {"outputs": next(iter(out.values())) if len(out) == 1 else out})
            else:
                raise ValueError("Missing 'inputs' or 'instances' key")
        except (ValueError, TypeError, KeyError, tf.errors.OpError) as e:
            self._answer(400, {"error": str(getattr(e, "message", e)).strip()})


def grpc_server(servables):
    import grpc
    from tensorflow_serving.apis import get_model_metadata_pb2, predict_pb2, prediction_service_pb2_grpc

    class Servicer(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):
            if request.model_spec.name not in servables:
                context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found: {request.model_spec.name}")
            try:
                out = servables[request.model_spec.name]({k: tf.make_ndarray(v) for k, v in request.inputs.items()})
            except (ValueError, TypeError, tf.errors.OpError) as e:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(getattr(e, "message", e)))
            response = predict_pb2.PredictResponse()
            response.model_spec.CopyFrom(request.model_spec)
            for k, v in out.items():
                response.outputs[k].CopyFrom(tf.make_tensor_proto(v))
            return response

        def GetModelMetadata(self, request, context):
            response = get_model_metadata_pb2.GetModelMetadataResponse()
            response.model_spec.CopyFrom(request.model_spec)
            response.metadata["signature_def"].Pack(servables[request.model_spec.name].signature_def_map)
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Servicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


@contextlib.contextmanager
def serve(export_dir):
    """The export's latest versions served over REST and gRPC:
    ``{"url": "http://127.0.0.1:P", "grpc": "127.0.0.1:Q"}``."""
    servables = load_servables(str(export_dir))
    handler = type("Handler", (RestHandler,), {"servables": servables, "timeout": 30})
    rest = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=rest.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    grpc, grpc_port = grpc_server(servables)
    try:
        yield {"url": f"http://127.0.0.1:{rest.server_address[1]}", "grpc": f"127.0.0.1:{grpc_port}"}
    finally:
        rest.shutdown()
        rest.server_close()
        thread.join(timeout=10)
        grpc.stop(0).wait(10)
        for servable in servables.values():
            servable.session.close()
