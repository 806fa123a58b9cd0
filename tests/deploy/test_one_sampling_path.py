"""One sampling path (``tfvae.pictures.samples``): a seed gives one grid whichever backend decodes it.

A small cvae checkpoint is exported once in every format, then sampled with ``tfvae generate`` from the
checkpoint's Keras model and from each exported file, and with ``tfvae sample-remote`` from the model served
over REST (``tfvae.deploy.rest_server``'s TF Serving endpoint, served by the explorer's HTTP server) and gRPC
(the loopback ``PredictionService`` of tests/helpers/serving.py).
"""

import threading

import numpy as np
import pytest
from PIL import Image

from tests.helpers import cli_error
from tests.helpers import serving as loopback

from tfvae import cli
from tfvae.deploy import rest_server, runtime
from tfvae.explorer import server
from tfvae.pictures import samples

CVAE = dict(latent_dim=4, hidden=(16,), model="cvae", num_classes=3)
FILES = {"saved_model": "decoder/1", "litert": "decoder.tflite", "onnx": "decoder.onnx"}
TILE = 28 + 2  # a grid tile and its padding


@pytest.fixture(scope="module")
def cvae(tmp_path_factory):
    """The checkpoint, its export in every format, and the decoder served over REST and gRPC."""
    root = tmp_path_factory.mktemp("one-path")
    model = loopback.save_checkpoint(root / "ckpt", CVAE)
    assert cli.main(["export", "--load_weight_dir", str(root / "ckpt"), "--export_dir", str(root / "exp"),
                     "--formats", "all"]) == 0
    httpd = server.bind("127.0.0.1", 0)
    httpd.endpoint = rest_server.Endpoint.from_export(str(root / "exp"))
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    servables = loopback.load_servables(str(root / "exp"))
    grpc_server, grpc_port = loopback.grpc_server(servables)
    try:
        yield {"root": root, "model": model, "url": f"http://127.0.0.1:{httpd.server_address[1]}",
               "grpc": f"127.0.0.1:{grpc_port}"}
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
        grpc_server.stop(0).wait(10)
        for servable in servables.values():
            servable.session.close()


def _sources(cvae):
    """``{source: (argv without the sampling flags, the printed line's 'from ...' part)}``."""
    root, url, grpc = cvae["root"], cvae["url"], cvae["grpc"]
    out = {"keras": (["generate", "--load_weight_dir", str(root / "ckpt")], f"from {root / 'ckpt'}")}
    for fmt, name in FILES.items():
        path = root / "exp" / name
        out[fmt] = (["generate", "--exported", str(path)], f"from {path} ({runtime.RUNTIME_NAMES[fmt]})")
    out["rest"] = (["sample-remote", "--url", url], f"from 'decoder' at {url}")
    out["grpc"] = (["sample-remote", "--grpc", grpc], f"from 'decoder' at {grpc}")
    return out


def _grid(path):
    return np.asarray(Image.open(path), np.int16)


def test_one_seed_gives_one_grid_from_the_model_every_file_and_the_server(cvae, tmp_path, capsys):
    pictures = {}
    for source, (argv, origin) in _sources(cvae).items():
        out = tmp_path / f"{source}.png"
        flags = ["--num", "6", "--nrow", "3", "--label", "2", "--seed", "5", "--temperature", "0.7", "--scale", "1",
                 "--output", str(out)]
        assert cli.main(argv + flags) == 0, capsys.readouterr().err
        detail = ", z[4]" if argv[0] == "sample-remote" else ""
        assert capsys.readouterr().out.strip() == f"tfvae: wrote 6 samples (T=0.7, seed 5{detail}) {origin} to {out}"
        pictures[source] = _grid(out)
    assert pictures["keras"].shape == (2 * TILE + 2, 3 * TILE + 2)
    for source, grid in pictures.items():
        assert np.abs(grid - pictures["keras"]).max() <= 1, source  # float rounding between runtimes
    # the documented draw: z = T * default_rng(seed).standard_normal((num, latent_dim))
    z = (0.7 * np.random.default_rng(5).standard_normal((6, 4))).astype(np.float32)
    np.testing.assert_array_equal(samples.draw_z(5, 6, 4, 0.7), z)
    want = cvae["model"].decode(z, np.full([6], 2, np.int32)).numpy()[..., 0]
    for i in range(6):
        r, c = divmod(i, 3)
        tile = pictures["keras"][2 + r * TILE: r * TILE + TILE, 2 + c * TILE: c * TILE + TILE]
        np.testing.assert_allclose(tile / 255.0, want[i], atol=1 / 255 + 1e-6)


def test_a_cvae_samples_one_row_per_class(cvae, tmp_path, capsys):
    model, root = cvae["model"], cvae["root"]
    decoders = {"keras": samples.KerasDecoder(model, "ckpt")}
    decoders.update({fmt: samples.FileDecoder(root / "exp" / name) for fmt, name in FILES.items()})
    for source, decoder in decoders.items():
        assert samples.labels_for(decoder, 7, 5, None) == ([0, 0, 1, 1, 2, 2], 6, 2), source  # 7 // 3 per class
        assert samples.labels_for(decoder, 4, 2, 1) == ([1] * 4, 4, 2), source
    out = tmp_path / "rows.png"
    assert cli.main(["generate", "--load_weight_dir", str(root / "ckpt"), "--num", "7", "--nrow", "5", "--seed", "2",
                     "--scale", "1", "--output", str(out)]) == 0
    assert capsys.readouterr().out.startswith("tfvae: wrote 6 samples (T=1.0, seed 2) from ")
    grid = _grid(out)
    assert grid.shape == (3 * TILE + 2, 2 * TILE + 2)  # one row per class, 2 samples each
    want = model.decode(samples.draw_z(2, 6, 4), np.repeat(np.arange(3, dtype=np.int32), 2)).numpy()[..., 0]
    for c in range(3):
        tile = grid[2 + c * TILE: c * TILE + TILE, 2:TILE]
        np.testing.assert_allclose(tile / 255.0, want[2 * c], atol=1 / 255 + 1e-6)
    # a served model does not say how many classes it has: --label is needed, and checked before any request
    err = cli_error(capsys, ["sample-remote", "--url", cvae["url"], "--num", "4", "--output", str(tmp_path / "x.png")])
    assert "does not say how many classes it has; pass --label" in err
    err = cli_error(capsys, ["generate", "--load_weight_dir", str(root / "ckpt"), "--label", "3",
                             "--output", str(tmp_path / "x.png")])
    assert "--label 3 is out of range: this cvae has classes 0..2" in err
    assert not (tmp_path / "x.png").exists()


def test_an_unseeded_draw_prints_its_seed_and_that_seed_repeats_it(cvae, tmp_path, capsys):
    argv = ["generate", "--load_weight_dir", str(cvae["root"] / "ckpt"), "--num", "3", "--label", "0"]
    assert cli.main(argv + ["--output", str(tmp_path / "a.png")]) == 0
    line = capsys.readouterr().out.strip()
    seed = int(line.split("seed ")[1].split(")")[0])
    assert line == f"tfvae: wrote 3 samples (T=1.0, seed {seed}) from {cvae['root'] / 'ckpt'} to {tmp_path / 'a.png'}"
    assert cli.main(argv + ["--seed", str(seed), "--output", str(tmp_path / "b.png")]) == 0
    np.testing.assert_array_equal(_grid(tmp_path / "a.png"), _grid(tmp_path / "b.png"))


def test_model_sample_is_still_a_library_method(cvae):
    model = cvae["model"]
    a = model.sample(4, temperature=0.5, seed=3, labels=1).numpy()
    assert a.shape == (4, 28, 28, 1) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, model.sample(4, temperature=0.5, seed=3, labels=1).numpy())
