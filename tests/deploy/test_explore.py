"""``tfvae explore``'s server without a browser: TF Serving's REST API on the export, the page's files, its errors.

The browser tests are in tests/browser/test_explore_browser.py (better_weight) and tests/browser/test_explore_browser_models.py
(the other kinds of model).
"""

import json
import socket
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from tests.helpers import FREY, NO_XLA, cli_error
from tfvae.deploy import runtime
from tfvae.deploy import rest_server as rest
from tfvae.explorer import page, server



@pytest.fixture(scope="module")
def served(shipped_export):
    """better_weight exported (the session's export) and served by the explorer's server (in a thread), with the
    SavedModels."""
    export_dir = shipped_export["dir"]
    httpd = server.bind("127.0.0.1", 0)
    httpd.page = page.page_config("better_weight")
    httpd.endpoint = rest.Endpoint.from_export(str(export_dir))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{httpd.server_address[1]}", "dir": export_dir,
               "decoder": runtime.load(str(export_dir / "decoder" / "1"))["serving_default"],
               "encoder": runtime.load(str(export_dir / "encoder" / "1"))["serving_default"]}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def _http(url, body=None, method=None):
    """``(status, parsed JSON or bytes, content type)`` of one request; error statuses too."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method or ("POST" if data is not None else "GET"))
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw, kind = resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, raw, kind = e.code, e.read(), e.headers.get("Content-Type", "")
    return status, (json.loads(raw) if kind.startswith("application/json") else raw), kind


def test_predict_rows_and_columns_answer_what_the_savedmodel_computes(served):
    z = np.random.default_rng(0).standard_normal((3, 128)).astype(np.float32)
    want = served["decoder"](z=z)["images"]
    url = served["url"] + "/v1/models/decoder:predict"
    status, rows, _ = _http(url, json.dumps({"instances": [{"z": r} for r in z.tolist()]}))
    assert status == 200 and list(rows) == ["predictions"]
    np.testing.assert_allclose(np.asarray(rows["predictions"]), want, atol=1e-6)
    status, bare, _ = _http(url, json.dumps({"instances": z.tolist()}))  # one input: bare rows
    assert status == 200 and np.allclose(bare["predictions"], want, atol=1e-6)
    status, cols, _ = _http(served["url"] + "/v1/models/decoder/versions/1:predict", json.dumps({"inputs": {"z": z.tolist()}}))
    assert status == 200 and list(cols) == ["outputs"] and np.allclose(cols["outputs"], want, atol=1e-6)


def test_encoder_answers_an_object_per_row_and_per_output(served):
    images = served["decoder"](z=np.zeros((2, 128), np.float32))["images"]
    want = served["encoder"](images=images)
    url = served["url"] + "/v1/models/encoder:predict"
    status, rows, _ = _http(url, json.dumps({"instances": [{"images": im} for im in images.tolist()]}))
    assert status == 200 and sorted(rows["predictions"][0]) == ["z_log_var", "z_mean"]
    np.testing.assert_allclose([p["z_mean"] for p in rows["predictions"]], want["z_mean"], atol=1e-5)
    status, cols, _ = _http(url, json.dumps({"inputs": images.tolist()}))
    assert status == 200 and np.allclose(cols["outputs"]["z_log_var"], want["z_log_var"], atol=1e-5)


@pytest.mark.parametrize("path, body, status, message", [
    ("/v1/models/decoder:predict", '{"instances": [', 400, "JSON Parse error"),
    ("/v1/models/decoder:predict", '[1, 2]', 400, "JSON object"),
    ("/v1/models/decoder:predict", '{"z": [[0]]}', 400, "Missing 'inputs' or 'instances' key"),
    ("/v1/models/decoder:predict", '{"instances": [[0, 1]]}', 400, "input 'z' must have shape [None, 128]"),
    ("/v1/models/decoder:predict", '{"instances": [{"images": [0]}]}', 400, "Expecting object with the inputs z"),
    ("/v1/models/decoder:predict", '{"inputs": {"z": [[0], [0, 1]]}}', 400, "rectangular array"),
    ("/v1/models/decoder:predict", '{"signature_name": "nope", "instances": [[0]]}', 400, 'signature name: "nope"'),
    ("/v1/models/nope:predict", '{"instances": [[0]]}', 404, "Servable not found for request: Latest(nope)"),
    ("/v1/models/decoder/versions/7:predict", '{"instances": [[0]]}', 404, "Specific(decoder, 7)"),
    ("/v1/models/decoder:explode", '{"instances": [[0]]}', 400, "Malformed request: POST"),
    ("/v1/models/nope/metadata", None, 404, "Servable not found for request: Latest(nope)"),
])
def test_bad_requests_get_tf_servings_error_shape_and_status(served, path, body, status, message):
    got, answer, kind = _http(served["url"] + path, body)
    assert got == status and kind == "application/json", (got, answer)
    assert list(answer) == ["error"] and message in answer["error"], answer


def test_metadata_and_status_read_by_the_serving_clients(served, tmp_path, capsys):
    from tfvae.deploy import client
    from tfvae.pictures import samples

    status, meta, _ = _http(served["url"] + "/v1/models/decoder/metadata")
    assert status == 200 and meta["model_spec"] == {"name": "decoder", "signature_name": "", "version": "1"}
    rest_client = client.RestClient(served["url"], "decoder")
    assert client.latent_dim_of(rest_client.inputs(), "decoder") == 128
    assert client.RestClient(served["url"], "encoder").inputs()["images"]["shape"] == [-1, 28, 28, 1]
    status, state, _ = _http(served["url"] + "/v1/models/encoder")
    assert state["model_version_status"][0]["state"] == "AVAILABLE"
    # tfvae sample-remote, written for TF Serving, works against the explorer's endpoint
    images = samples.sample_remote(served["url"], num=4, seed=1, output=str(tmp_path / "s.png"))
    assert images.shape == (4, 28, 28, 1) and (tmp_path / "s.png").stat().st_size > 0


def test_the_page_its_description_and_nothing_else(served):
    status, html, kind = _http(served["url"] + "/")
    assert status == 200 and kind.startswith("text/html") and b'<canvas id="decoded"' in html
    for name, kind_wanted in (("explorer.js", "text/javascript"), ("explorer.css", "text/css"),
                              ("examples/mnist.png", "image/png")):
        status, _, kind = _http(f"{served['url']}/{name}")
        assert status == 200 and kind.startswith(kind_wanted), name
    status, cfg, _ = _http(served["url"] + "/explorer.json")
    assert cfg["name"] == "better_weight" and cfg["dataset"] == "mnist" and cfg["latent_dim"] == 128
    assert cfg["metrics"]["nll"] == pytest.approx(84.15, abs=0.01) and not cfg["conditional"]
    assert cfg["examples"]["url"] == "examples/mnist.png" and cfg["serving_url"] == ""
    for path in ("/../server.py", "/%2e%2e/server.py", "/nope.html"):
        assert _http(served["url"] + path)[0] == 404, path


def _checkpoint_dir(path, **model):
    """A weights directory without real weights: enough for the TensorFlow-free page description."""
    path.mkdir(parents=True)
    (path / "model.weights.h5").write_bytes(b"")
    config = {"model": {"input_shape": [28, 28, 1], "latent_dim": 2, **model}, "data": {"dataset": "fashion_mnist"}}
    (path / "config.json").write_text(json.dumps(config))
    return path


def test_a_conditional_model_gets_its_classes(tmp_path):
    cfg = page.page_config(str(_checkpoint_dir(tmp_path / "c", model="cvae", num_classes=10)),
                           serving_url="http://localhost:8501/")
    assert cfg["conditional"] and cfg["num_classes"] == 10 and cfg["class_names"][9] == "Ankle boot"
    assert cfg["serving_url"] == "http://localhost:8501" and cfg["examples"]["url"] == "examples/fashion_mnist.png"
    plain = page.page_config(str(_checkpoint_dir(tmp_path / "v", input_shape=[28, 20, 1])))
    assert not plain["conditional"] and plain["class_names"] == [] and plain["examples"] is None
    assert plain["metrics"] == {} and plain["name"] == "v"


def test_user_errors_are_one_line(tmp_path, capsys):
    err = cli_error(capsys, ["explore", "--load_weight_dir", str(tmp_path / "none"), "--no_browser"])
    assert "no weights found" in err and "tfvae weights" in err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        err = cli_error(capsys, ["explore", "--port", str(taken.getsockname()[1]), "--no_browser"])
    assert "the port is in use" in err and "--port 0" in err
    err = cli_error(capsys, ["explore", "--serving_url", "localhost:8501", "--no_browser"])
    assert "--serving_url" in err and "http://localhost:8501" in err
    assert "0..65535" in cli_error(capsys, ["explore", "--port", "70000"])
    err = cli_error(capsys, ["explore", "--host", "no-such-host.invalid", "--no_browser"])
    assert "--host no-such-host.invalid" in err


ALL_METRICS = {"split": "test", "n_examples": 400, "iwae_samples": 100, "elbo": 895.9, "neg_elbo": -895.9,
               "nll": -918.0, "bits_per_dim": -2.4, "reconstruction_loss": -905.2, "kl": 9.2, "rmse": 0.069,
               "active_units": 2, "conditional_accuracy": None, "seconds": 21.4}


@pytest.mark.parametrize("model, shown", [
    ({"likelihood": "bernoulli"}, ["nll", "neg_elbo", "rmse", "reconstruction_loss", "kl", "active_units"]),
    ({"likelihood": "gaussian"}, ["elbo", "nll", "rmse", "reconstruction_loss", "kl", "active_units"]),
    ({"likelihood": "mse", "model": "ae"}, ["rmse", "reconstruction_loss"]),
])
def test_the_page_shows_tfvae_weights_headline_metrics_for_its_likelihood(tmp_path, model, shown):
    ckpt = _checkpoint_dir(tmp_path / "m", **model)
    (ckpt / "metrics.json").write_text(json.dumps(ALL_METRICS))
    cfg = page.page_config(str(ckpt))
    assert list(cfg["metrics"]) == shown  # in the order shown: no -ELBO next to ELBO, never bits/dim
    assert cfg["metrics_split"] == "test split, 400 images, K=100"


# Two tiny models (one epoch, trained once for the session): Frey faces (28 x 20) with a Gaussian decoder, and an
# auto-encoder.
TINY_MODELS = {"faces": ("--dataset", "freyface", "--data_dir", FREY, "--likelihood", "gaussian"),
               "ae": ("--model", "ae", "--likelihood", "mse", "--dataset", "mnist")}
TINY_COMMON = ("--epoch", "1", "--train_examples", "300", "--val_examples", "60", "--hidden", "32", "--latent_dim",
               "2", "--no_images", *NO_XLA)


@pytest.mark.parametrize("name, kind, shape", [("faces", "vae", [28, 20, 1]), ("ae", "ae", [28, 28, 1])])
def test_a_gaussian_non_square_model_and_an_auto_encoder_are_described_and_decoded(trained, tmp_path, name, kind,
                                                                                  shape):
    cfg = page.page_config(str(trained(*TINY_COMMON, *TINY_MODELS[name]).path))
    assert cfg["kind"] == kind and cfg["input_shape"] == shape and cfg["latent_dim"] == 2
    assert cfg["stochastic"] == (name != "ae") and (cfg["examples"] is None) == (name == "faces")  # 28 x 28 mnist: some
    assert cfg["likelihood"] == ("gaussian" if name == "faces" else "mse")
    endpoint = server.local_endpoint(cfg["checkpoint"], str(tmp_path))
    status, answer = endpoint.handle("POST", "/v1/models/decoder:predict", json.dumps({"instances": [{"z": [0.5, -1]}]}))
    assert status == 200, answer
    image = np.asarray(answer["predictions"])
    assert image.shape == (1, *shape) and np.isfinite(image).all()
    status, answer = endpoint.handle("POST", "/v1/models/encoder:predict", json.dumps({"instances": image.tolist()}))
    assert status == 200 and len(answer["predictions"][0]["z_mean"]) == 2, answer
