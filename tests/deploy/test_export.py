"""``tfvae export`` (SavedModels for TF Serving) and the serving clients.

No TF Serving binary can be installed here, so the clients are tested against
loopback servers (tests/helpers/serving.py): a REST server speaking TF Serving's
documented JSON predict/metadata protocol and a gRPC ``PredictionService``, both
running the exported SavedModels. They bind 127.0.0.1 on an ephemeral port and
are shut down at the end of the module.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import cli_error, run_together
from tests.helpers import serving as loopback

from tfvae import checkpoints, cli, data, models
from tfvae.deploy import export
from tfvae.deploy import client
from tfvae.errors import TfvaeError

ARCH = {"latent_dim": 8, "hidden": [64, 32]}
LATENT, SHAPE = 8, (28, 28, 1)
TOL = 1e-5


def _signature(path):
    return tf.saved_model.load(str(path)).signatures[export.SIGNATURE]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A small checkpoint exported once with ``tfvae export`` (version 1)."""
    root = tmp_path_factory.mktemp("export")
    model = loopback.save_checkpoint(root / "ckpt", ARCH)
    assert cli.main(["export", "--load_weight_dir", str(root / "ckpt"), "--export_dir", str(root / "serving")]) == 0
    return {"root": root, "ckpt": root / "ckpt", "dir": root / "serving", "model": model}


# --------------------------------------------------------------- layout
def test_export_layout_and_serving_files(exported):
    d = exported["dir"]
    for name in ("decoder", "encoder"):
        v = d / name / "1"
        assert (v / "saved_model.pb").is_file() and (v / "variables").is_dir()
        assert sorted(os.listdir(d / name)) == ["1"]  # no temporary directories left
    conf = (d / "models.config").read_text()
    for name in ("decoder", "encoder"):
        assert re.search(r'config \{\s*name: "%s"\s*base_path: "%s"\s*model_platform: "tensorflow"\s*\}'
                         % (name, re.escape(str(d / name))), conf), conf
    assert os.path.isabs(re.findall(r'base_path: "([^"]+)"', conf)[0])
    batching = (d / "batching_parameters.txt").read_text()
    for key in ("max_batch_size", "batch_timeout_micros", "num_batch_threads", "max_enqueued_batches"):
        assert re.search(key + r" \{ value: [1-9]\d* \}", batching), key
    doc = (d / "SERVING.md").read_text()
    assert "tensorflow_model_server --rest_api_port=8501 --port=8500" in doc
    assert f"--model_config_file={d / 'models.config'}" in doc and "--enable_batching" in doc
    assert "docker run -p 8501:8501 -p 8500:8500 -v" in doc and "--model_config_file=/models/models.config" in doc
    assert "/v1/models/decoder:predict" in doc and '"instances"' in doc and '"inputs"' in doc
    assert "InvalidArgumentError" in doc


def test_cli_prints_what_it_wrote(tmp_path, exported, capsys):
    assert cli.main(["export", "--load_weight_dir", str(exported["ckpt"]), "--export_dir", str(tmp_path / "e"),
                     "--version", "7"]) == 0
    out = capsys.readouterr().out
    assert "version 7" in out and str(tmp_path / "e" / "decoder" / "7") in out
    assert str(tmp_path / "e" / "encoder" / "7") in out and str(tmp_path / "e" / "models.config") in out


# ------------------------------------------------------ exact outputs
CLEAN_PROCESS = r"""
import sys
sys.modules["tfvae"] = None          # the package must not be needed
try:
    import tfvae
except ImportError:
    pass
else:
    raise SystemExit("tfvae importable")
import json, numpy as np, tensorflow as tf, keras
d, data = sys.argv[1], np.load(sys.argv[2])
dec = tf.saved_model.load(d + "/decoder/1").signatures["serving_default"]
enc = tf.saved_model.load(d + "/encoder/1").signatures["serving_default"]
out = {"images": dec(z=tf.constant(data["z"]))["images"].numpy()}
e = enc(images=tf.constant(data["x"]))
out["z_mean"], out["z_log_var"] = e["z_mean"].numpy(), e["z_log_var"].numpy()
layer = keras.layers.TFSMLayer(d + "/decoder/1", call_endpoint="serving_default")
out["layer"] = np.asarray(layer(data["z"])["images"])
out["inputs"] = sorted(dec.structured_input_signature[1]) + sorted(enc.structured_input_signature[1])
print(json.dumps({k: np.asarray(v).tolist() for k, v in out.items()}))
"""


def test_clean_process_load_matches_keras(exported, tmp_path):
    model = exported["model"]
    rng = np.random.default_rng(0)
    z = rng.standard_normal((5, LATENT)).astype(np.float32)
    x = rng.uniform(size=(5,) + SHAPE).astype(np.float32)
    np.savez(tmp_path / "in.npz", z=z, x=x)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(tmp_path / "nowhere"), TF_CPP_MIN_LOG_LEVEL="2")
    r = subprocess.run([sys.executable, "-c", CLEAN_PROCESS, str(exported["dir"]), str(tmp_path / "in.npz")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    z_mean, z_log_var = (t.numpy() for t in model.encode(x))
    np.testing.assert_allclose(got["images"], model.decode(z).numpy(), atol=TOL)
    np.testing.assert_allclose(got["layer"], model.decode(z).numpy(), atol=TOL)
    np.testing.assert_allclose(got["z_mean"], z_mean, atol=TOL)
    np.testing.assert_allclose(got["z_log_var"], z_log_var, atol=TOL)
    assert got["inputs"] == ["z", "images"]


def test_encoder_mean_reconstructs_through_the_decoder(exported):
    """images -> encoder z_mean -> decoder == the Keras reconstruction; shapes and range."""
    model = exported["model"]
    x = np.random.default_rng(1).uniform(size=(4,) + SHAPE).astype(np.float32)
    enc = _signature(exported["dir"] / "encoder" / "1")
    dec = _signature(exported["dir"] / "decoder" / "1")
    stats = enc(images=tf.constant(x))
    assert stats["z_mean"].shape == (4, LATENT) and stats["z_log_var"].shape == (4, LATENT)
    rec = dec(z=stats["z_mean"])["images"].numpy()
    assert rec.shape == (4,) + SHAPE and rec.dtype == np.float32
    assert rec.min() >= 0.0 and rec.max() <= 1.0
    np.testing.assert_allclose(rec, model(x).numpy(), atol=TOL)


def test_wrong_shape_or_dtype_raises_inside_tensorflow(exported):
    dec = _signature(exported["dir"] / "decoder" / "1")
    with pytest.raises(tf.errors.InvalidArgumentError, match="[Ss]hape"):
        dec(z=tf.zeros([2, LATENT + 1]))
    with pytest.raises(tf.errors.InvalidArgumentError):
        dec(z=tf.zeros([LATENT]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="float"):
        dec(z=tf.zeros([2, LATENT], tf.float64))


@pytest.mark.slow  # two saved_model_cli processes
def test_saved_model_cli_show_and_run(exported, tmp_path):
    cmd = shutil.which("saved_model_cli")
    cmd = [cmd] if cmd else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    dec = str(exported["dir"] / "decoder" / "1")
    np.save(tmp_path / "z.npy", np.zeros((2, LATENT), np.float32))
    show, run = run_together(  # both at once
        (cmd + ["show", "--dir", dec, "--all"], dict(env=env)),
        (cmd + ["run", "--dir", dec, "--tag_set", "serve", "--signature_def", "serving_default", "--inputs",
                f"z={tmp_path / 'z.npy'}", "--outdir", str(tmp_path / "out")], dict(env=env)), timeout=120)
    assert show.returncode == 0, show.stderr[-2000:]
    sig = show.stdout.split("signature_def['serving_default']")[1].split("signature_def[")[0]
    assert re.search(r"inputs\['z'\] tensor_info:\s*dtype: DT_FLOAT\s*shape: \(-1, %d\)" % LATENT, sig), sig
    assert re.search(r"outputs\['images'\] tensor_info:\s*dtype: DT_FLOAT\s*shape: \(-1, 28, 28, 1\)", sig), sig
    assert "tensorflow/serving/predict" in sig and "MetaGraphDef with tag-set: 'serve'" in show.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    images = np.load(tmp_path / "out" / "images.npy")
    np.testing.assert_allclose(images, exported["model"].decode(np.zeros((2, LATENT), np.float32)).numpy(), atol=TOL)
    # the encoder's signature, read in-process the way saved_model_cli reads it
    from tensorflow.python.tools import saved_model_utils

    meta = saved_model_utils.get_meta_graph_def(str(exported["dir"] / "encoder" / "1"), "serve")
    enc = meta.signature_def["serving_default"]
    assert list(enc.inputs) == ["images"] and sorted(enc.outputs) == ["z_log_var", "z_mean"]
    assert [d.size for d in enc.inputs["images"].tensor_shape.dim] == [-1, 28, 28, 1]
    assert [d.size for d in enc.outputs["z_mean"].tensor_shape.dim] == [-1, LATENT]


# ------------------------------------------------------------- versions
def test_versions_increment_refuse_and_overwrite(exported, tmp_path, capsys):
    d = tmp_path / "e"
    model = exported["model"]
    assert export.export_model(model, d)["version"] == 1
    assert export.export_model(model, d)["version"] == 2
    assert export.existing_versions(str(d)) == [1, 2]
    before = {p: os.stat(p).st_mtime_ns for p in map(str, d.rglob("*"))}
    args = ["export", "--load_weight_dir", str(exported["ckpt"]), "--export_dir", str(d), "--version", "1"]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfvae: error:") and "\n" not in err
    assert "version 1 already exists" in err and "--overwrite" in err
    assert {p: os.stat(p).st_mtime_ns for p in map(str, d.rglob("*"))} == before  # nothing touched
    # --overwrite replaces version 1 (with other weights), leaves version 2 alone
    other = models.build_model(ARCH)
    v2 = _signature(d / "decoder" / "2")
    assert export.export_model(other, d, version=1, overwrite=True)["version"] == 1
    z = tf.random.normal([3, LATENT])
    np.testing.assert_allclose(_signature(d / "decoder" / "1")(z=z)["images"], other.decode(z), atol=TOL)
    np.testing.assert_allclose(v2(z=z)["images"], model.decode(z), atol=TOL)
    assert sorted(os.listdir(d / "decoder")) == ["1", "2"] and sorted(os.listdir(d / "encoder")) == ["1", "2"]


def test_failed_export_leaves_no_version(exported, tmp_path, monkeypatch):
    d = tmp_path / "e"

    def broken_save(obj, path, signatures=None):
        os.makedirs(os.path.join(path, "variables"), exist_ok=True)
        open(os.path.join(path, "saved_model.pb"), "w").close()
        if os.path.basename(os.path.dirname(path)) == "encoder":
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(tf.saved_model, "save", broken_save)
    with pytest.raises(TfvaeError, match="No space left"):
        export.export_model(exported["model"], d)
    assert export.existing_versions(str(d)) == []
    assert all(not os.listdir(d / name) for name in ("decoder", "encoder"))


# --------------------------------------------------------------- errors
def _one_line_error(capsys, argv):
    return cli_error(capsys, argv)


def test_missing_or_foreign_weights(exported, tmp_path, capsys):
    err = _one_line_error(capsys, ["export", "--load_weight_dir", str(tmp_path / "none"),
                                   "--export_dir", str(tmp_path / "e")])
    assert "no weights found" in err
    err = _one_line_error(capsys, ["export", "--load_weight_dir", str(exported["dir"] / "decoder" / "1"),
                                   "--export_dir", str(tmp_path / "e")])
    assert "exported SavedModel, not tfvae weights" in err
    foreign = tmp_path / "foreign"
    shutil.copytree(exported["ckpt"], foreign)
    (foreign / "config.json").write_text('{"model": {"latent_dim": 3, "hidden": [5]}}')
    err = _one_line_error(capsys, ["export", "--load_weight_dir", str(foreign), "--export_dir", str(tmp_path / "e")])
    assert "do not fit this model" in err
    (foreign / "config.json").write_text("not json")
    err = _one_line_error(capsys, ["export", "--load_weight_dir", str(foreign), "--export_dir", str(tmp_path / "e")])
    assert "config.json is corrupt or truncated" in err
    assert not (tmp_path / "e").exists()


def test_non_writable_export_dir(exported, tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("x")
    err = _one_line_error(capsys, ["export", "--load_weight_dir", str(exported["ckpt"]),
                                   "--export_dir", str(tmp_path / "file" / "sub")])
    assert "argument --export_dir" in err and "file is a file" in err
    if os.geteuid() != 0:  # root may write anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        err = _one_line_error(capsys, ["export", "--load_weight_dir", str(exported["ckpt"]),
                                       "--export_dir", str(ro / "e")])
        assert "not writable" in err
    # a write that fails half-way (e.g. read-only file system) is reported the same way
    def failing(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(export.io, "atomic_dir", failing)
    with pytest.raises(TfvaeError, match="cannot write the export.*Permission denied"):
        export.export_model(exported["model"], tmp_path / "e")


def test_conditional_conv_model_gets_a_label_input(tmp_path):
    """A cvae's signatures take ``label`` int64 [None]; a conv model with batch norm restores everywhere."""
    if "num_classes" not in models.VAEConfig.__dataclass_fields__:
        pytest.skip("no conditional model in tfvae.models")
    model = models.build_model(dict(ARCH, model="cvae", num_classes=3, arch="conv", batch_norm=True))
    export.export_model(model, tmp_path / "e")
    dec, enc = _signature(tmp_path / "e" / "decoder" / "1"), _signature(tmp_path / "e" / "encoder" / "1")
    spec = dec.structured_input_signature[1]
    assert sorted(spec) == ["label", "z"] and spec["label"].dtype == tf.int64 and spec["label"].shape.as_list() == [None]
    assert sorted(enc.structured_input_signature[1]) == ["images", "label"]
    z, label = tf.random.normal([4, LATENT]), tf.constant([0, 1, 2, 1], tf.int64)
    want = model.decode(z, label).numpy()
    np.testing.assert_allclose(dec(z=z, label=label)["images"], want, atol=TOL)
    served = loopback.Servable(str(tmp_path / "e" / "decoder" / "1"))  # TF Serving's loader: BN statistics restored
    np.testing.assert_allclose(served({"z": z.numpy(), "label": label.numpy()})["images"], want, atol=TOL)
    served.session.close()
    doc = (tmp_path / "e" / "SERVING.md").read_text()
    assert '"label": 0' in doc and "`label` int64" in doc


@pytest.fixture(scope="module")
def servers(exported):
    with loopback.serve(exported["dir"]) as urls:
        yield urls


# ------------------------------------------------------------ clients
def test_rest_client_row_and_columnar(exported, servers):
    model = exported["model"]
    z = np.random.default_rng(2).standard_normal((3, LATENT)).astype(np.float32)
    want = model.decode(z).numpy()
    dec = client.RestClient(servers["url"], "decoder")
    rows = dec.predict_rows([{"z": v.tolist()} for v in z])
    np.testing.assert_allclose(np.asarray(rows, np.float32), want, atol=TOL)
    np.testing.assert_allclose(np.asarray(dec.predict_rows(z.tolist()), np.float32), want, atol=TOL)
    np.testing.assert_allclose(np.asarray(dec.predict_columns({"z": z.tolist()}), np.float32), want, atol=TOL)
    np.testing.assert_allclose(dec.predict({"z": z}, columnar=False), want, atol=TOL)
    x = np.random.default_rng(3).uniform(size=(2,) + SHAPE).astype(np.float32)
    z_mean, z_log_var = (t.numpy() for t in model.encode(x))
    enc = client.RestClient(servers["url"].replace("http://", ""), "encoder")
    for columnar in (True, False):
        out = enc.predict({"images": x}, columnar=columnar)
        np.testing.assert_allclose(out["z_mean"], z_mean, atol=TOL)
        np.testing.assert_allclose(out["z_log_var"], z_log_var, atol=TOL)
    assert dec.inputs() == {"z": {"dtype": "DT_FLOAT", "shape": [-1, LATENT]}}
    assert client.latent_dim_of(dec.inputs(), "decoder") == LATENT
    assert enc.inputs()["images"]["shape"] == [-1, 28, 28, 1]


def test_rest_client_surfaces_the_error_field(servers):
    dec = client.RestClient(servers["url"], "decoder")
    with pytest.raises(client.ServingError, match=r"HTTP 400: .*[Ss]hape") as e:
        dec.predict_columns({"z": [[0.0] * (LATENT + 1)]})
    assert isinstance(e.value, TfvaeError)
    with pytest.raises(client.ServingError, match="HTTP 404: Servable not found"):
        client.RestClient(servers["url"], "nosuchmodel").predict_rows([[0.0] * LATENT])
    with pytest.raises(client.ServingError, match="cannot reach the model server"):
        client.RestClient("http://127.0.0.1:1", "decoder", timeout=5).predict_rows([[0.0] * LATENT])


@pytest.mark.parametrize("how", ["rest-row", "rest-columnar", "grpc"])
def test_sample_remote_writes_a_png(exported, servers, tmp_path, capsys, how):
    from PIL import Image

    out = tmp_path / "s.png"
    where = ["--grpc", servers["grpc"]] if how == "grpc" else \
        ["--url", servers["url"], "--rest_format", how.split("-")[1]] + (["--version", "1"] if how == "rest-columnar" else [])
    argv = ["sample-remote"] + where + ["--model", "decoder", "--num", "6", "--nrow", "3", "--seed", "4",
                                        "--temperature", "0.5", "--scale", "1", "--output", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert f"z[{LATENT}]" in capsys.readouterr().out  # read from the server's metadata
    img = np.asarray(Image.open(out))
    assert img.shape == (2 * 30 + 2, 3 * 30 + 2)
    # the same z decoded locally gives the same tiles
    z = (0.5 * np.random.default_rng(4).standard_normal((6, LATENT))).astype(np.float32)
    first = exported["model"].decode(z[:1]).numpy()[0, :, :, 0]
    np.testing.assert_allclose(img[2:30, 2:30] / 255.0, first, atol=1 / 255 + 1e-6)


def test_sample_remote_errors_are_one_line(servers, tmp_path, capsys):
    base = ["sample-remote", "--num", "2", "--output", str(tmp_path / "x.png")]
    err = _one_line_error(capsys, base + ["--url", servers["url"], "--label", "1"])
    assert "HTTP 400" in err and "label" in err
    err = _one_line_error(capsys, base + ["--grpc", servers["grpc"], "--latent_dim", str(LATENT + 2)])
    assert "INVALID_ARGUMENT" in err
    err = _one_line_error(capsys, base + ["--url", servers["url"], "--model", "encoder"])
    assert "no input z" in err
    assert not (tmp_path / "x.png").exists()


SHIPPED_CLEAN = r"""
import sys
sys.modules["tfvae"] = None
import json, numpy as np, tensorflow as tf
d, data = sys.argv[1], np.load(sys.argv[2])
enc = tf.saved_model.load(d + "/encoder/1").signatures["serving_default"]
dec = tf.saved_model.load(d + "/decoder/1").signatures["serving_default"]
x = tf.constant(data["x"])
rec = dec(z=enc(images=x)["z_mean"])["images"].numpy()
s = dec(z=tf.constant(data["z"]))["images"].numpy()
np.savez(sys.argv[3], rec=rec, samples=s)
"""


def test_shipped_weights_export_reconstructs_real_digits(shipped_export, tmp_path, tfds_dir):
    """The done-when check: export better_weight (the session's ``tfvae export``), run it where tfvae cannot be
    imported, and decode the encoder means of real test digits: exact against Keras, and a close reconstruction."""

    model, config, _, _ = checkpoints.load_model("better_weight")
    dc = data.DataConfig.from_dict(config["data"])
    x, _ = data.load_eval_images(dc, "test", 200)
    z = np.random.default_rng(0).standard_normal((8, model.latent_dim)).astype(np.float32)
    np.savez(tmp_path / "in.npz", x=x, z=z)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(tmp_path / "nowhere"), TF_CPP_MIN_LOG_LEVEL="2")
    r = subprocess.run([sys.executable, "-c", SHIPPED_CLEAN, str(shipped_export["dir"]), str(tmp_path / "in.npz"),
                        str(tmp_path / "out.npz")], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr[-2000:]
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["rec"], model(x).numpy(), atol=1e-5)
    np.testing.assert_allclose(out["samples"], model.decode(z).numpy(), atol=1e-5)
    rmse = float(np.sqrt(((out["rec"] - x) ** 2).reshape(len(x), -1).mean(1)).mean())
    print(f"shipped-weights export: encoder mean -> decoder RMSE on 200 test digits = {rmse:.4f}")
    assert rmse < 0.2
