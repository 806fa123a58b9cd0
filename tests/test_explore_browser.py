"""``tfvae explore`` in a real browser: headless Chromium (Debian's chromium + chromium-driver) under selenium.

Without Chromium these tests skip with one line saying how to install it; under ``TFVAE_REQUIRE_BROWSER=1``
(.ci/run sets it) that is a failure. One browser and one server per model serve the whole module:
``tfvae explore --no_browser --port 0`` in subprocesses, for the shipped ``better_weight`` and for a cvae
with a 2-D latent (``weights/mnist_cvae`` and ``weights/mnist_z2`` when they exist, else one trained here
in ~20 s). Each page's pixels are checked against the SavedModel's own decode of the z the page reports.
Screenshots go to the test's temporary directory and to /tmp/explore_shots/.
"""

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHOTS = os.path.join(os.environ.get("TMPDIR", "/tmp"), "explore_shots")
EXAMPLES = os.path.join(ROOT, "tfvae", "explorer", "static", "examples", "mnist.png")
TOLERANCE = 2 / 255


def _bench():
    spec = importlib.util.spec_from_file_location("explore_latency", os.path.join(ROOT, "bench", "explore_latency.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


@pytest.fixture(scope="module")
def browser():
    found, why = BENCH.find_browser()
    if not found:
        if os.environ.get("TFVAE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TFVAE_REQUIRE_BROWSER=1 and {why}")
        pytest.skip(why)
    driver = BENCH.chrome(*found)
    yield driver
    driver.quit()


def _shipped(name):
    path = os.path.join(ROOT, "weights", name)
    return path if os.path.isfile(os.path.join(path, "config.json")) else None


def _latent(path):
    return json.load(open(os.path.join(path, "config.json")))["model"]["latent_dim"]


@pytest.fixture(scope="module")
def explorers(browser, tmp_path_factory):
    """``{"better": ..., "cvae": ..., "flat": ...}``: each ``{"proc", "url", "weights"}`` (cvae may be flat)."""
    work = tmp_path_factory.mktemp("explore")
    cvae = _shipped("mnist_cvae")
    flat = _shipped("mnist_z2") or (cvae if cvae and _latent(cvae) == 2 else None)
    train = None
    if not (cvae and flat):  # a small cvae with a 2-D latent serves both
        train = subprocess.Popen([sys.executable, "-m", "tfvae", "train", "--model", "cvae", "--dataset", "mnist",
                                  "--binarize", "dynamic", "--latent_dim", "2", "--epoch", "6", "--train_examples",
                                  "10000", "--val_examples", "500", "--no_images", "--run_dir", str(work / "cvae2")],
                                 cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 env=dict(os.environ, PYTHONPATH=ROOT))
    servers = {}
    try:
        servers["better"] = _serve("better_weight")
        if train:
            out = train.communicate(timeout=600)[0]
            assert train.returncode == 0, out[-3000:]
            cvae, flat = cvae or str(work / "cvae2"), flat or str(work / "cvae2")
        servers["cvae"] = _serve(cvae)
        servers["flat"] = servers["cvae"] if flat == cvae else _serve(flat)
        yield servers
    finally:
        if train and train.poll() is None:
            train.kill()
        for s in servers.values():
            BENCH.stop_explorer(s["proc"])


def _serve(weights, *flags):
    proc, url = BENCH.start_explorer(["--load_weight_dir", weights, *flags])
    return {"proc": proc, "url": url, "weights": weights}


_DECODERS = {}


def _savedmodel(weights, name, tmp_root):
    """The SavedModel ``tfvae export`` writes for ``weights`` (``decoder`` or ``encoder``), run by tfvae.runtime."""
    if weights not in _DECODERS:
        from tfvae import checkpoints, export, runtime

        out = os.path.join(tmp_root, f"export-{len(_DECODERS)}")
        export.export_model(checkpoints.load_model(weights)[0], out, version=1)
        _DECODERS[weights] = {n: runtime.load(os.path.join(out, n, "1"))["serving_default"] for n in ("decoder", "encoder")}
    return _DECODERS[weights][name]


# ------------------------------------------------------------ page helpers
def _open(browser, server):
    if browser.current_url != server["url"]:
        browser.get(server["url"])
    BENCH.wait_ready(browser)


READ_CANVAS = """
const [sel, H, W] = arguments, c = document.querySelector(sel), s = c.width / W;
const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, out = [];
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++)
  out.push(d[(Math.floor((y + 0.5) * s) * c.width + Math.floor((x + 0.5) * s)) * 4] / 255);
return {pixels: out, z: c.dataset.z ? JSON.parse(c.dataset.z) : null, label: c.dataset.label || null};
"""


def _canvas(browser, selector="#decoded"):
    """The canvas's image (the centre of each drawn pixel block, [28, 28] in [0, 1]) and the z it shows."""
    got = browser.execute_script(READ_CANVAS, selector, 28, 28)
    return np.asarray(got["pixels"], np.float32).reshape(28, 28), got["z"], got["label"]


def _draws(browser):
    return browser.execute_script("return window.explorer.draws")


def _settled(browser, action, timeout=60):
    """Runs ``action()``, then waits until the page has redrawn and has no request out."""
    before = _draws(browser)
    action()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if _draws(browser) > before and browser.execute_script("return window.explorer.idle()"):
            return
        time.sleep(0.03)
    raise AssertionError(f"no redraw within {timeout} s (status: {browser.find_element('id', 'status').text!r})")


def _decode(weights, tmp_root, z, label=None):
    inputs = {"z": np.asarray([z], np.float32)}
    if label is not None:
        inputs["label"] = np.asarray([int(label)], np.int64)
    return _savedmodel(weights, "decoder", tmp_root)(**inputs)["images"][0, :, :, 0]


def _shot(browser, tmp_path, name):
    BENCH.screenshot(browser, str(tmp_path / name))
    os.makedirs(SHOTS, exist_ok=True)
    BENCH.screenshot(browser, os.path.join(SHOTS, name))
    browser.set_window_size(1400, 1000)
    assert (tmp_path / name).stat().st_size > 10_000


def _bundled():
    """The bundled test digits: ``[10 classes, 10, 28, 28]`` in [0, 1]."""
    from PIL import Image

    grid = np.asarray(Image.open(EXAMPLES), np.float32) / 255
    return grid.reshape(10, 28, 10, 28).transpose(0, 2, 1, 3)


# ----------------------------------------------------------- better_weight
def test_a_slider_redraws_what_the_savedmodel_decodes(browser, explorers, tmp_path_factory):
    from selenium.webdriver.common.action_chains import ActionChains

    better = explorers["better"]
    _open(browser, better)
    sliders = browser.find_elements("css selector", "input.latent[type=range]")
    assert len(sliders) == 16 and {s.get_attribute("min") for s in sliders} == {"-3"}
    before, z_before, _ = _canvas(browser)
    slider = sliders[0]
    width = slider.size["width"]
    _settled(browser, lambda: ActionChains(browser).move_to_element_with_offset(slider, int(width * 0.45), 0)
             .click().perform())
    image, z, _ = _canvas(browser)
    dim = int(slider.get_attribute("data-dim"))
    assert z != z_before and abs(z[dim] - float(slider.get_attribute("value"))) < 1e-5 and z[dim] > 2
    for s in sliders:  # the z drawn is the sliders' z
        assert abs(z[int(s.get_attribute("data-dim"))] - float(s.get_attribute("value"))) <= 0.005 + 1e-5
    assert np.abs(image - before).mean() > 0.005, "the slider did not change the image"
    want = _decode(better["weights"], str(tmp_path_factory.getbasetemp()), z)
    assert np.abs(image - want).max() <= TOLERANCE + 1e-6, np.abs(image - want).max()


def test_sample_draws_a_new_image_from_the_prior(browser, explorers, tmp_path_factory):
    _open(browser, explorers["better"])
    before, z_before, _ = _canvas(browser)
    _settled(browser, lambda: browser.find_element("id", "sample").click())
    image, z, _ = _canvas(browser)
    assert len(z) == 128 and np.count_nonzero(z) == 128 and 0.5 < np.std(z) < 1.6
    assert np.abs(image - before).mean() > 0.01
    want = _decode(explorers["better"]["weights"], str(tmp_path_factory.getbasetemp()), z)
    assert np.abs(image - want).max() <= TOLERANCE + 1e-6


def test_an_encoded_test_digit_is_reconstructed_and_sets_the_sliders(browser, explorers, tmp_path, tmp_path_factory):
    better = explorers["better"]
    _open(browser, better)
    digit = _bundled()[7, 0]
    _settled(browser, lambda: browser.find_element("css selector", '#examples canvas[data-label="7"]').click())
    recon, z_recon, _ = _canvas(browser, "#recon")
    shown, _, _ = _canvas(browser, "#input")
    _, z, _ = _canvas(browser)
    assert np.abs(shown - digit).max() < 1e-6 and z == z_recon
    want = _savedmodel(better["weights"], "encoder", str(tmp_path_factory.getbasetemp()))(
        images=digit[None, :, :, None])["z_mean"][0]
    np.testing.assert_allclose(z, want, atol=1e-4)
    assert recon.mean() > 0.05 and np.corrcoef(recon.ravel(), digit.ravel())[0, 1] > 0.8
    for s in browser.find_elements("css selector", "input.latent"):
        assert abs(float(s.get_attribute("value")) - np.clip(want[int(s.get_attribute("data-dim"))], -3, 3)) <= 0.006
    # interpolation: the far ends are the two last encoded images (A: the digit 0 shown at start, B: this 7)
    move = "const i = document.querySelector('#interp'); i.value = arguments[0]; i.dispatchEvent(new Event('input'));"
    _settled(browser, lambda: browser.execute_script(move, "0"))
    _, z_a, _ = _canvas(browser)
    assert np.abs(np.asarray(z_a) - want).max() > 0.1
    _settled(browser, lambda: browser.execute_script(move, "0.5"))
    _, z_mid, _ = _canvas(browser)
    np.testing.assert_allclose(z_mid, (np.asarray(z_a) + want) / 2, atol=1e-4)
    _shot(browser, tmp_path, "better_weight.png")


def test_an_upload_is_resized_inverted_and_encoded(browser, explorers, tmp_path, tmp_path_factory):
    from PIL import Image

    better = explorers["better"]
    _open(browser, better)
    digit = _bundled()[3, 0]
    photo = tmp_path / "three.png"  # dark ink on white paper, 3x the size, in colour
    Image.fromarray(np.uint8(255 - digit * 255)).resize((84, 84), Image.NEAREST).convert("RGB").save(photo)
    _settled(browser, lambda: browser.find_element("id", "upload").send_keys(str(photo)))
    shown, _, _ = _canvas(browser, "#input")
    assert np.abs(shown - digit).mean() < 0.05, np.abs(shown - digit).mean()  # back to 28x28, light on dark
    recon, z, _ = _canvas(browser, "#recon")
    want = _savedmodel(better["weights"], "encoder", str(tmp_path_factory.getbasetemp()))(
        images=shown[None, :, :, None])["z_mean"][0]
    np.testing.assert_allclose(z, want, atol=1e-3)
    assert np.corrcoef(recon.ravel(), digit.ravel())[0, 1] > 0.8


def test_the_latency_probe_the_benchmark_uses(browser, explorers):
    _open(browser, explorers["better"])
    latencies = BENCH.measure(browser, moves=5)  # bench/explore_latency.py reports the figures; no timing here
    assert len(latencies) == 5 and all(v > 0 for v in latencies)


# -------------------------------------------------------- cvae, 2-D latent
def test_the_label_selector_changes_the_digit_class(browser, explorers, tmp_path_factory):
    from selenium.webdriver.support.select import Select

    cvae = explorers["cvae"]
    _open(browser, cvae)
    _settled(browser, lambda: browser.find_element("id", "zero").click())
    select = Select(browser.find_element("id", "label"))
    assert [o.text for o in select.options] == [str(k) for k in range(10)]
    images = {}
    for k in [*range(1, 10), 0]:  # the page starts at class 0: the first choice must be a change
        _settled(browser, lambda: select.select_by_value(str(k)))
        image, z, label = _canvas(browser)
        assert label == str(k) and not np.any(z)
        images[k] = image
    images = [images[k] for k in range(10)]
    want = _decode(cvae["weights"], str(tmp_path_factory.getbasetemp()), np.zeros(_latent(cvae["weights"])), 3)
    assert np.abs(images[3] - want).max() <= TOLERANCE + 1e-6
    diffs = [np.abs(images[k] - images[k - 1]).mean() for k in range(1, 10)]
    assert min(diffs) > 0.02, diffs
    # which class does each image look like? the nearest mean of the bundled test digits (correlation)
    means = _bundled().mean(axis=1).reshape(10, -1)
    nearest = [int(np.argmax([np.corrcoef(im.ravel(), m)[0, 1] for m in means])) for im in images]
    assert sum(n == k for k, n in enumerate(nearest)) >= 8, nearest


def test_the_manifold_map_moves_z_where_it_is_clicked(browser, explorers, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    _open(browser, explorers["flat"])
    canvas = browser.find_element("id", "map")
    assert canvas.is_displayed()
    rect = browser.execute_script("const r = arguments[0].getBoundingClientRect(); "
                                  "return [r.width, r.height, arguments[0].width, arguments[0].height];", canvas)
    tiles = browser.execute_script("return arguments[0].getContext('2d').getImageData(0, 0, arguments[0].width, "
                                   "arguments[0].height).data.filter((v, i) => i % 4 === 0).reduce((a, v) => a + v, 0)",
                                   canvas) / (rect[2] * rect[3] * 255)
    assert tiles > 0.05, "the map is blank"
    dx, dy = int(rect[0] * 0.3), int(-rect[1] * 0.2)  # right of and above the centre: z0 > 0, z1 > 0
    _settled(browser, lambda: ActionChains(browser).move_to_element_with_offset(canvas, dx, dy).click().perform())
    _, z, _ = _canvas(browser)
    step, cell = 6 / 14, rect[2] / 15
    px, py = (rect[0] / 2 + dx) * rect[2] / rect[0], (rect[1] / 2 + dy) * rect[3] / rect[1]
    assert abs(z[0] - (-3 + (px / cell - 0.5) * step)) < 0.05 and abs(z[1] - (3 - (py / cell - 0.5) * step)) < 0.05, z
    marker = json.loads(canvas.get_attribute("data-marker"))
    assert abs(marker[0] - px) < 2 and abs(marker[1] - py) < 2
    _shot(browser, tmp_path, "cvae_z2.png")


# ------------------------------------------------------------ --serving_url
class _CorsProxy:
    """A reverse proxy that adds Access-Control-Allow-Origin, as the README tells TF Serving users to run."""

    def __init__(self, target):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else None
                req = urllib.request.Request(target.rstrip("/") + self.path, data=body, method=self.command)
                try:
                    with urllib.request.urlopen(req, timeout=60) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                self.send_response(status)
                for k, v in (("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                             ("Access-Control-Allow-Origin", "*")):
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_page_talks_to_a_serving_url_across_origins(browser, explorers):
    import urllib.error  # noqa: F401  (the proxy's handler uses it)

    better = explorers["better"]
    proxy = _CorsProxy(better["url"])  # TF Serving's REST API (here: better_weight's explorer) behind CORS
    page = _serve("better_weight", "--serving_url", proxy.url)
    try:
        _open(browser, page)
        assert browser.execute_script("return performance.getEntriesByType('resource').some("
                                      "(e) => e.name.startsWith(arguments[0] + '/v1/models/encoder:predict'))",
                                      proxy.url)
        _, z_before, _ = _canvas(browser)
        _settled(browser, lambda: browser.find_element("id", "sample").click())
        assert _canvas(browser)[1] != z_before
        assert "TF Serving at " + proxy.url in browser.find_element("id", "status").text
    finally:
        rc, _, err = BENCH.stop_explorer(page["proc"])
        proxy.close()
    assert rc == 0 and "Traceback" not in err


def test_ctrl_c_stops_the_server_and_the_page_says_it_is_gone(browser, explorers):
    better = explorers["better"]
    _open(browser, better)
    rc, out, err = BENCH.stop_explorer(better["proc"])
    assert rc == 0 and out.strip() == "tfvae: explorer stopped" and err == "", (rc, out, err)  # a quiet terminal
    deadline = time.time() + 15
    status = browser.find_element("id", "status")
    while "error" not in status.get_attribute("class") and time.time() < deadline:
        time.sleep(0.2)
    assert "error" in status.get_attribute("class") and "not answering" in status.text, status.text
    assert status.is_displayed()
