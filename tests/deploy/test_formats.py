"""``tfvae export --formats``: LiteRT and ONNX beside the SavedModel, each run by its own runtime.

Every kind is exported once in all three formats (module fixtures); then one
subprocess per format, where ``import tfvae`` is impossible, runs every file of
that format on real test digits (TensorFlow for the SavedModels,
``ai_edge_litert`` for ``.tflite``, ``onnxruntime`` for ``.onnx``), and the
outputs are compared here with the Keras models.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.helpers import cli_error

from tfvae import checkpoints, cli, config, data, models
from tfvae.deploy import convert, export, formats, runtime
from tfvae.errors import TfvaeError

pytestmark = pytest.mark.slow  # its fixtures export every kind in every format

KINDS = {  # vae mlp, gated, conv with batch norm, cvae, Gaussian (the rest of EVERY_KIND too)
    "vae-mlp": dict(latent_dim=4, hidden=(32,)),
    "gated": dict(latent_dim=4, hidden=(32,), arch="gated"),
    "conv-bn": dict(latent_dim=4, hidden=(16,), arch="conv", conv_filters=(4, 8), batch_norm=True),
    "cvae": dict(latent_dim=4, hidden=(32,), model="cvae", num_classes=10),
    "gaussian": dict(latent_dim=4, hidden=(32,), likelihood="gaussian"),
    "cvae-conv-bn-gaussian": dict(latent_dim=4, hidden=(16,), model="cvae", num_classes=10, arch="conv",
                                  conv_filters=(4, 8), batch_norm=True, likelihood="gaussian"),
    "ae": dict(latent_dim=4, hidden=(32,), model="ae"),
    "vae2": dict(latent_dim=3, hidden=(32,), model="vae2", latent_dim1=5),
}
FILES = {"saved_model": "{name}/1", "litert": "{name}.tflite", "onnx": "{name}.onnx"}
TOL = 1e-5
BATCHES = (1, 64)
SHIPPED_DIGITS = 256
# LiteRT quantization of the shipped decoder: RMSE against the float32 decoder on 256 real test digits'
# encoder means. Measured (bench/litert_quantize.py, bench/RESULTS.md): float16 6.5e-5 on these 256 digits
# (6.4e-5 on all 10 000), dynamic_int8 5.6e-3 (5.5e-3); the bounds leave a margin of about 2x.
QUANTIZED_RMSE = {"float16": 1.5e-4, "dynamic_int8": 1.2e-2}

# One script per runtime, run where tfvae cannot be imported. argv[1] is a JSON list of jobs
# {"model": path, "inputs": npz, "out": npz, "then": decoder path or null}: run the model on the inputs
# (and, with "then", the decoder on the encoder's z_mean); stdout: each model's input/output specs.
PREAMBLE = r"""
import json, sys
sys.modules["tfvae"] = None
try:
    import tfvae
except ImportError:
    pass
else:
    raise SystemExit("tfvae importable")
import numpy as np
"""
RUNNERS = {
    "saved_model": r"""
import tensorflow as tf
def load(path):
    fn = tf.saved_model.load(path).signatures["serving_default"]
    spec = {k: [v.dtype.name, v.shape.as_list()] for k, v in fn.structured_input_signature[1].items()}
    outs = {k: [v.dtype.name, v.shape.as_list()] for k, v in fn.structured_outputs.items()}
    return (lambda **f: {k: v.numpy() for k, v in fn(**{n: tf.constant(a) for n, a in f.items()}).items()}), spec, outs
""",
    "litert": r"""
from ai_edge_litert.interpreter import Interpreter
def load(path):
    run = Interpreter(model_path=path).get_signature_runner("serving_default")
    spec = {k: [np.dtype(d["dtype"]).name, d["shape_signature"].tolist()] for k, d in run.get_input_details().items()}
    outs = {k: [np.dtype(d["dtype"]).name, d["shape_signature"].tolist()] for k, d in run.get_output_details().items()}
    return run, spec, outs
""",
    "onnx": r"""
import onnxruntime as ort
def load(path):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in s.get_outputs()]
    spec = {i.name: [i.type, [d if isinstance(d, int) else -1 for d in i.shape]] for i in s.get_inputs()}
    outs = {o.name: [o.type, [d if isinstance(d, int) else -1 for d in o.shape]] for o in s.get_outputs()}
    return (lambda **f: dict(zip(names, s.run(names, f)))), spec, outs
""",
}
JOBS = r"""
models, report = {}, {}
for job in json.load(open(sys.argv[1])):
    for path in filter(None, (job["model"], job.get("then"))):
        if path not in models:
            models[path] = load(path)
            report[path] = {"inputs": models[path][1], "outputs": models[path][2]}
    feeds = dict(np.load(job["inputs"]))
    out = models[job["model"]][0](**feeds)
    if job.get("then"):
        out.update(models[job["then"]][0](z=out["z_mean"], **{k: v for k, v in feeds.items() if k == "label"}))
    np.savez(job["out"], **out)
report["tensorflow imported"] = "tensorflow" in sys.modules
print(json.dumps(report))
"""


def _clean_env(tmp):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(tmp / "nowhere"), TF_CPP_MIN_LOG_LEVEL="2")
    return env


def _randomize(model, seed):
    """Non-trivial weights everywhere, batch-norm statistics included (so a format that drops them fails)."""
    rng = np.random.default_rng(seed)
    for v in model.weights:
        shape, name = tuple(v.shape), v.path
        if "moving_variance" in name:
            v.assign(rng.uniform(0.5, 2.0, shape).astype(np.float32))
        elif "moving_mean" in name or "bias" in name or "beta" in name:
            v.assign((0.1 * rng.standard_normal(shape)).astype(np.float32))
    return model


@pytest.fixture(scope="module")
def digits(tfds_dir):
    images, labels = data.load_eval_images(config.DataConfig("mnist"), "test", SHIPPED_DIGITS)
    return images, labels.astype(np.int64)


@pytest.fixture(scope="module")
def exported(tmp_path_factory, digits):
    """Every kind exported with ``--formats all``, its Keras outputs, and the jobs that check each format."""
    root = tmp_path_factory.mktemp("formats")
    x, y = digits[0][:64], digits[1][:64]
    out = {"root": root, "kinds": {}, "jobs": {fmt: [] for fmt in formats.EXPORT_FORMATS}}
    for i, (kind, cfg) in enumerate(KINDS.items()):
        model = _randomize(models.build_model(cfg), i)
        result = export.export_model(model, root / kind, formats=formats.EXPORT_FORMATS)
        z = np.random.default_rng(i).standard_normal((64, model.latent_dim)).astype(np.float32)
        label = {"label": y} if model.config.conditional else {}
        z_mean, z_log_var = (t.numpy() for t in model.encode(x, y if label else None))
        want = {"decoder": {"images": model.decode(z, y if label else None).numpy()},
                "encoder": {"z_mean": z_mean, "z_log_var": z_log_var}}
        feeds = {"decoder": dict(z=z, **label), "encoder": dict(images=x, **label)}
        out["kinds"][kind] = {"model": model, "result": result, "want": want}
        for name in formats.EXPORTED_MODELS:
            for b in BATCHES:
                np.savez(root / f"{kind}-{name}-{b}.npz", **{k: v[:b] for k, v in feeds[name].items()})
                for fmt in formats.EXPORT_FORMATS:
                    out["jobs"][fmt].append({"model": str(root / kind / FILES[fmt].format(name=name)),
                                             "inputs": str(root / f"{kind}-{name}-{b}.npz"),
                                             "out": str(root / f"{kind}-{name}-{b}-{fmt}.out.npz"),
                                             "key": [kind, name, b]})
    return out


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, digits, exported, shipped_export):
    """``tfvae export --load_weight_dir better_weight --formats all`` (the session's) and two quantized LiteRT exports."""
    root = tmp_path_factory.mktemp("shipped")
    (root / "all").symlink_to(shipped_export["dir"], target_is_directory=True)
    # the README's command, as a user runs it: ten lines of what was written, nothing on stderr
    r = shipped_export["run"]
    assert r.returncode == 0 and r.stderr == "", r.stderr[-3000:]
    assert len(r.stdout.splitlines()) == 10 and "decoder.tflite" in r.stdout and "encoder.onnx" in r.stdout
    for q in QUANTIZED_RMSE:
        assert cli.main(["export", "--load_weight_dir", "better_weight", "--formats", "litert",
                         "--litert_quantize", q, "--export_dir", str(root / q)]) == 0
    model = checkpoints.load_model("better_weight")[0]
    x = digits[0]
    z_mean = model.encode(x)[0].numpy()
    np.savez(root / "x.npz", images=x)
    np.savez(root / "z.npz", z=z_mean)
    z = np.random.default_rng(0).standard_normal((8, model.latent_dim)).astype(np.float32)
    np.savez(root / "samples.npz", z=z)
    for fmt in formats.EXPORT_FORMATS:
        enc, dec = (str(root / "all" / FILES[fmt].format(name=n)) for n in ("encoder", "decoder"))
        exported["jobs"][fmt] += [
            {"model": enc, "then": dec, "inputs": str(root / "x.npz"), "out": str(root / f"rec-{fmt}.npz")},
            {"model": dec, "inputs": str(root / "samples.npz"), "out": str(root / f"samples-{fmt}.npz")}]
    for q in QUANTIZED_RMSE:
        exported["jobs"]["litert"].append({"model": str(root / q / "decoder.tflite"), "inputs": str(root / "z.npz"),
                                           "out": str(root / f"quantized-{q}.npz")})
    return {"root": root, "model": model, "x": x, "z_mean": z_mean, "z": z}


@pytest.fixture(scope="module")
def ran(exported, shipped, tmp_path_factory):
    """One subprocess per format runs all of that format's jobs; returns each one's report."""
    tmp = tmp_path_factory.mktemp("clean")
    reports = {}
    for fmt, jobs in exported["jobs"].items():
        (tmp / f"{fmt}.json").write_text(json.dumps(jobs))
        r = subprocess.run([sys.executable, "-c", PREAMBLE + RUNNERS[fmt] + JOBS, str(tmp / f"{fmt}.json")],
                           cwd=tmp, env=_clean_env(tmp), capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"{fmt}: {r.stderr[-3000:]}"
        reports[fmt] = json.loads(r.stdout.strip().splitlines()[-1])
    return reports


# ------------------------------------------------------------------ every kind, every format
def test_every_kind_writes_six_artefacts_with_metadata(exported):
    for kind, entry in exported["kinds"].items():
        d = exported["root"] / kind
        for name in formats.EXPORTED_MODELS:
            for fmt in formats.EXPORT_FORMATS:
                assert (d / FILES[fmt].format(name=name)).exists(), (kind, name, fmt)
        assert {p.name for p in d.iterdir()} == {"decoder", "encoder", "decoder.tflite", "encoder.tflite",
                                                 "decoder.onnx", "encoder.onnx", "models.config",
                                                 "batching_parameters.txt", "SERVING.md"}, kind
        meta = json.loads((d / "decoder" / "1" / "assets.extra" / "tfvae.json").read_text())
        model = entry["model"]
        assert meta == {"model": "decoder", "kind": model.config.model, "latent_dim": model.latent_dim,
                        "input_shape": [28, 28, 1], "num_classes": model.num_classes,
                        "can_sample": model.can_sample, "saved_model_version": 1, "prior": "standard",
                        "posterior": "gaussian"}
        doc = (d / "SERVING.md").read_text()
        assert "get_signature_runner" in doc and "InferenceSession" in doc and "runtime.load" in doc


@pytest.mark.parametrize("fmt", formats.EXPORT_FORMATS)
def test_each_runtime_matches_keras_at_batch_1_and_64(exported, ran, fmt):
    """Decoded and encoded real test digits, in a process without tfvae, to 1e-5 of the Keras model."""
    for job in exported["jobs"][fmt]:
        if "key" not in job:
            continue
        kind, name, b = job["key"]
        got = np.load(job["out"])
        for key, want in exported["kinds"][kind]["want"][name].items():
            assert got[key].shape == want[:b].shape and got[key].dtype == np.float32, (kind, name, key, fmt)
            np.testing.assert_allclose(got[key], want[:b], atol=TOL, err_msg=f"{kind} {name} {key} {fmt} batch {b}")
    assert ran[fmt]["tensorflow imported"] == (fmt == "saved_model")  # LiteRT and ONNX run without TensorFlow


@pytest.mark.parametrize("fmt", formats.EXPORT_FORMATS)
def test_names_dtypes_and_a_dynamic_batch_in_every_format(exported, ran, fmt):
    dtype = {"saved_model": {"f": "float32", "i": "int64"}, "litert": {"f": "float32", "i": "int64"},
             "onnx": {"f": "tensor(float)", "i": "tensor(int64)"}}[fmt]
    for kind, entry in exported["kinds"].items():
        model = entry["model"]
        label = {"label": [dtype["i"], [-1]]} if model.config.conditional else {}
        image = [-1, 28, 28, 1]
        dec = ran[fmt][str(exported["root"] / kind / FILES[fmt].format(name="decoder"))]
        enc = ran[fmt][str(exported["root"] / kind / FILES[fmt].format(name="encoder"))]
        norm = (lambda spec: {k: [t, [-1 if d is None else d for d in s]] for k, (t, s) in spec.items()})
        assert norm(dec["inputs"]) == {"z": [dtype["f"], [-1, model.latent_dim]], **label}, (kind, fmt)
        assert norm(enc["inputs"]) == {"images": [dtype["f"], image], **label}, (kind, fmt)
        assert norm(dec["outputs"]) == {"images": [dtype["f"], image]}, (kind, fmt)
        assert norm(enc["outputs"]) == {k: [dtype["f"], [-1, model.latent_dim]] for k in ("z_mean", "z_log_var")}


# ------------------------------------------------------------------ the shipped weights
def test_shipped_weights_reconstruct_real_digits_in_every_runtime(shipped, ran):
    """The done-when check: six artefacts of better_weight, each run by its own runtime without tfvae,
    reconstruct 256 real test digits with an RMSE within 1e-4 of the SavedModel's."""
    model, x, root = shipped["model"], shipped["x"], shipped["root"]
    assert len(list((root / "all").glob("*coder*"))) == 6
    rec_keras, samples_keras = model(x).numpy(), model.decode(shipped["z"]).numpy()
    rmse = {}
    for fmt in formats.EXPORT_FORMATS:
        rec = np.load(root / f"rec-{fmt}.npz")["images"]
        np.testing.assert_allclose(rec, rec_keras, atol=TOL, err_msg=fmt)
        np.testing.assert_allclose(np.load(root / f"samples-{fmt}.npz")["images"], samples_keras, atol=TOL)
        rmse[fmt] = float(np.sqrt(((rec - x) ** 2).reshape(len(x), -1).mean(1)).mean())
    print(f"shipped weights, encoder mean -> decoder RMSE on {len(x)} test digits: {rmse}")
    assert rmse["saved_model"] < 0.2
    for fmt in ("litert", "onnx"):
        assert abs(rmse[fmt] - rmse["saved_model"]) <= 1e-4, rmse


def test_serving_md_snippets_run_without_tfvae(shipped, tmp_path):
    """SERVING.md's LiteRT and ONNX lines, copied as they are, decode a batch where tfvae cannot be imported."""
    import re

    doc = (shipped["root"] / "all" / "SERVING.md").read_text()
    blocks = {fmt: re.search(rf"## {title}.*?```python\n(.*?)```", doc, re.S).group(1)
              for fmt, title in (("litert", "LiteRT"), ("onnx", "ONNX"))}
    assert len(blocks["litert"].strip().splitlines()) <= 5, blocks["litert"]
    code = PREAMBLE + "\n".join(f"{b}\nprint({fmt!r}, images.shape, float(images.mean()))"
                                for fmt, b in blocks.items())
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_clean_env(tmp_path), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    z = np.random.default_rng(0).standard_normal((16, 128), np.float32)
    want = float(shipped["model"].decode(z).numpy().mean())
    for fmt in blocks:
        line = next(ln for ln in r.stdout.splitlines() if ln.startswith(fmt))
        assert line.startswith(f"{fmt} (16, 28, 28, 1)") and abs(float(line.split()[-1]) - want) < 1e-5, line


@pytest.mark.parametrize("quantize", sorted(QUANTIZED_RMSE))
def test_quantized_litert_decoder_within_the_measured_tolerance(shipped, ran, quantize):
    got = np.load(shipped["root"] / f"quantized-{quantize}.npz")["images"]
    want = shipped["model"].decode(shipped["z_mean"]).numpy()
    rmse = float(np.sqrt(np.mean((got - want) ** 2)))
    size = os.path.getsize(shipped["root"] / quantize / "decoder.tflite")
    print(f"litert {quantize}: decoder.tflite {size / 1e6:.2f} MB, RMSE against float32 {rmse:.2e}")
    assert 0 < rmse <= QUANTIZED_RMSE[quantize]
    assert size < 0.6 * os.path.getsize(shipped["root"] / "all" / "decoder.tflite")
    assert runtime.load(shipped["root"] / quantize / "decoder.tflite").metadata["litert_quantize"] == quantize


# ------------------------------------------------------------------ tfvae.runtime and generate --exported
def test_runtime_load_gives_the_same_signature_in_every_format(exported, digits):
    entry = exported["kinds"]["cvae"]
    d, model = exported["root"] / "cvae", entry["model"]
    z = np.random.default_rng(5).standard_normal((3, model.latent_dim)).astype(np.float32)
    want = model.decode(z, digits[1][:3]).numpy()
    for fmt, runtime_name in runtime.RUNTIME_NAMES.items():
        loaded = runtime.load(d / FILES[fmt].format(name="decoder"))
        # a SavedModel decoder also holds its prior's signatures; a LiteRT or ONNX file the decoder alone
        names = [formats.SIGNATURE] + (["prior_log_prob", "prior_sample"] if fmt == "saved_model" else [])
        assert (loaded.format, loaded.runtime, sorted(loaded)) == (fmt, runtime_name, sorted(names))
        assert loaded.metadata["num_classes"] == 10 and loaded.metadata["model"] == "decoder"
        decode = loaded[formats.SIGNATURE]
        assert decode.inputs == {"z": (np.float32, (None, model.latent_dim)), "label": (np.int64, (None,))}
        assert decode.outputs == ("images",)
        np.testing.assert_allclose(decode(z=z.tolist(), label=digits[1][:3].tolist())["images"], want, atol=TOL)
        with pytest.raises(TfvaeError, match="takes inputs label, z; got z"):
            decode(z=z)
        with pytest.raises(TfvaeError, match=r"input 'z' must have shape \[None, 4\], got \[3, 5\]"):
            decode(z=np.zeros((3, 5)), label=[0, 1, 2])


def test_runtime_load_errors_are_one_clear_line(exported, tmp_path, monkeypatch):
    d = exported["root"] / "vae-mlp"
    with pytest.raises(TfvaeError, match="it holds decoder/1, encoder/1, decoder.onnx"):
        runtime.load(d)
    with pytest.raises(TfvaeError, match="does not exist"):
        runtime.load(tmp_path / "none.onnx")
    (tmp_path / "junk.tflite").write_bytes(b"not a flatbuffer")
    with pytest.raises(TfvaeError, match="junk.tflite is not a readable litert model"):
        runtime.load(tmp_path / "junk.tflite")
    (tmp_path / "model.bin").write_bytes(b"")
    with pytest.raises(TfvaeError, match="cannot tell which runtime"):
        runtime.load(tmp_path / "model.bin")
    for fmt, module in (("litert", "ai_edge_litert.interpreter"), ("onnx", "onnxruntime")):
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(TfvaeError, match=rf'install the {fmt} extra: pip install "tfvae\[{fmt}\]"'):
            runtime.load(d / FILES[fmt].format(name="decoder"))


def test_generate_exported_draws_the_same_picture_from_every_format(exported, tmp_path, capsys):
    from PIL import Image

    pictures = {}
    for kind, rows in (("cvae", 10), ("gated", 2)):
        for fmt in formats.EXPORT_FORMATS:
            out = tmp_path / f"{kind}-{fmt}.png"
            path = exported["root"] / kind / FILES[fmt].format(name="decoder")
            assert cli.main(["generate", "--exported", str(path), "--num", "20", "--nrow", "10", "--seed", "3",
                             "--scale", "1", "--output", str(out)]) == 0
            line = capsys.readouterr().out.strip()
            assert line == f"tfvae: wrote 20 samples (T=1.0, seed 3) from {path} ({runtime.RUNTIME_NAMES[fmt]}) " \
                           f"to {out}", line
            pictures[kind, fmt] = np.asarray(Image.open(out), np.int16)
        assert pictures[kind, "saved_model"].shape[0] == rows * 30 + 2  # cvae: one row of 2 per class
        for fmt in ("litert", "onnx"):
            assert np.abs(pictures[kind, fmt] - pictures[kind, "saved_model"]).max() <= 1, (kind, fmt)


def test_generate_exported_needs_no_tensorflow_and_prints_one_line(exported, tmp_path):
    """From a .tflite or .onnx decoder, ``tfvae generate`` imports no TensorFlow and prints only its result."""
    paths = [str(exported["root"] / "cvae" / f"decoder{suffix}") for suffix in formats.FORMAT_SUFFIX.values()]
    code = ("import sys; from tfvae import cli\n"
            "for p in sys.argv[1:]:\n"
            "    assert cli.main(['generate', '--exported', p, '--num', '10', '--label', '3', '--output', 's.png']) == 0\n"
            "print('tensorflow imported:', 'tensorflow' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code] + paths, cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = (r.stdout + r.stderr).strip().splitlines()
    assert len(lines) == 3 and all(ln.startswith("tfvae: wrote 10 samples (T=1.0, seed ") for ln in lines[:2]), lines
    assert lines[2] == "tensorflow imported: False", lines


def _one_line_error(capsys, argv):
    return cli_error(capsys, argv)


def test_generate_exported_refuses_what_it_cannot_sample(exported, tmp_path, capsys):
    base = ["generate", "--num", "4", "--output", str(tmp_path / "s.png"), "--exported"]
    err = _one_line_error(capsys, base + [str(exported["root"] / "ae" / "decoder.onnx")])
    assert "plain auto-encoder" in err
    err = _one_line_error(capsys, base + [str(exported["root"] / "vae-mlp" / "encoder.tflite")])
    assert "not an exported decoder (its inputs are images)" in err
    err = _one_line_error(capsys, base + [str(exported["root"] / "cvae" / "decoder.tflite"), "--label", "10"])
    assert "--label 10 is out of range" in err
    err = _one_line_error(capsys, ["generate", "--exported", "x.onnx", "--load_weight_dir", "runs/x"])
    assert "not allowed with argument" in err
    assert not (tmp_path / "s.png").exists()


# ------------------------------------------------------------------ export errors: one line, nothing written
def test_bad_formats_and_quantization_are_one_line(exported, tmp_path, capsys):
    ckpt = tmp_path / "ckpt"
    model = exported["kinds"]["vae-mlp"]["model"]
    checkpoints.save(str(ckpt), model, {"model": model.config.to_dict(), "data": {"dataset": "mnist"}}, {"epoch": 1})
    base = ["export", "--load_weight_dir", str(ckpt), "--export_dir", str(tmp_path / "e")]
    for bad in ("saved_model,tflite", "all,foo", ""):
        err = _one_line_error(capsys, base + ["--formats", bad])
        assert f"argument --formats: expected saved_model, litert, onnx (comma-separated) or all, got {bad!r}" in err
    err = _one_line_error(capsys, base + ["--litert_quantize", "int4"])
    assert "argument --litert_quantize: invalid choice" in err
    err = _one_line_error(capsys, base + ["--formats", "onnx", "--litert_quantize", "float16"])
    assert "applies to LiteRT files only; add litert to --formats" in err
    assert not (tmp_path / "e").exists()
    # only LiteRT and ONNX: no SavedModel version, no TF Serving files
    assert cli.main(base + ["--formats", "onnx,litert"]) == 0
    assert sorted(os.listdir(tmp_path / "e")) == ["SERVING.md", "decoder.onnx", "decoder.tflite", "encoder.onnx",
                                                  "encoder.tflite"]
    assert runtime.load(tmp_path / "e" / "decoder.onnx").metadata["saved_model_version"] is None


def test_a_failed_conversion_or_missing_converter_leaves_nothing(exported, tmp_path, monkeypatch, capsys):
    model = exported["kinds"]["gated"]["model"]

    def unconvertible(module):
        raise ValueError("no ONNX operator for Xyz")

    monkeypatch.setattr(convert, "onnx_proto", unconvertible)
    with pytest.raises(TfvaeError, match=r"--formats onnx cannot take the decoder of this vae model \(gated, "
                                         r"bernoulli\): no ONNX operator for Xyz; export it with --formats "
                                         r"saved_model,litert") as e:
        export.export_model(model, tmp_path / "e", formats=formats.EXPORT_FORMATS)
    assert "\n" not in str(e.value)
    assert export.existing_versions(str(tmp_path / "e")) == []
    assert not [f for f in (tmp_path / "e").rglob("*") if f.is_file()], list((tmp_path / "e").rglob("*"))
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    err = _one_line_error(capsys, ["export", "--load_weight_dir", "better_weight", "--formats", "all",
                                   "--export_dir", str(tmp_path / "f")])
    assert "needs tf2onnx, which is not installed" in err and 'pip install "tfvae[onnx]"' in err
    assert not (tmp_path / "f").exists()
