"""Deployment: a trained model as files other runtimes run, and the clients and servers that speak to them.

* ``formats``: the formats, names and ``--formats`` parsing (TensorFlow-free; everything below reads it);
* ``plan``: ``ExportPlan``, what one export writes, checked once; SavedModel versions;
* ``export``: the servable decoder and encoder modules, written as a plan says (``tfvae export``);
* ``convert``: the same modules as LiteRT and ONNX files; ``runtime``: ``load(path)`` runs any of them;
* ``tf_serving_files``: models.config, batching parameters and SERVING.md beside an export;
* ``client``: TF Serving's REST and gRPC clients (``tfvae sample-remote``);
* ``rest_server``: TF Serving's REST predict API on an export (what ``tfvae explore`` serves).
"""
