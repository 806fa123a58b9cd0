"""What the browser tests of ``tfvae explore`` (tests/browser/) share: the browser, the servers, reading the
page's canvases and the SavedModel's own answers to check them against.

Headless Chromium (Debian's chromium + chromium-driver) under selenium, driven through
``tfvae.explorer.headless`` (which bench/explore_latency.py uses too). Without Chromium the tests skip with one
line saying how to install it; under ``TFVAE_REQUIRE_BROWSER=1`` (.ci/run sets it) that is a failure.
Screenshots go to the test's temporary directory and to /tmp/explore_shots/.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.helpers import ROOT, checkout_env
from tfvae.explorer import headless

SHOTS = os.path.join(os.environ.get("TMPDIR", "/tmp"), "explore_shots")
EXAMPLES = os.path.join(ROOT, "tfvae", "explorer", "static", "examples", "mnist.png")
TOLERANCE = 2 / 255




def open_browser():
    """Headless Chromium, or the test skips (fails under TFVAE_REQUIRE_BROWSER=1) saying what is missing."""
    found, why = headless.find_browser()
    if not found:
        if os.environ.get("TFVAE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"TFVAE_REQUIRE_BROWSER=1 and {why}")
        pytest.skip(why)
    return headless.chrome(*found)


def shipped(name):
    """``weights/NAME`` of this checkout when it holds a weights set, else None."""
    path = os.path.join(ROOT, "weights", name)
    return path if os.path.isfile(os.path.join(path, "config.json")) else None


def model_config(path):
    return json.load(open(os.path.join(path, "config.json")))["model"]


def train(run_dir, *flags):
    """``tfvae train --no_images --run_dir RUN_DIR FLAGS`` started in a subprocess (``finish`` waits for it)."""
    return subprocess.Popen([sys.executable, "-m", "tfvae", "train", *flags, "--no_images", "--run_dir", str(run_dir)],
                            cwd=os.path.dirname(str(run_dir)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=checkout_env())


def finish(proc, timeout=600):
    out = proc.communicate(timeout=timeout)[0]
    assert proc.returncode == 0, out[-3000:]


def serve(weights, *flags):
    """``tfvae explore --no_browser --port 0`` for ``weights``: ``{"proc", "url", "weights"}``."""
    proc, url = headless.start_explorer(["--load_weight_dir", weights, *flags])
    return {"proc": proc, "url": url, "weights": weights}


def stop_all(procs, timeout=30):
    """Ctrl-C to every explorer at once, then waits for each (killed after ``timeout`` s)."""
    import signal
    import subprocess

    procs = list(dict.fromkeys(procs))
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


_MODELS = {}


def savedmodel(exported_weights, weights, name):
    """The SavedModel ``tfvae export`` writes for ``weights`` (``decoder`` or ``encoder``), run by tfvae.runtime.

    ``exported_weights``: conftest's session fixture (each weights set exported once for the whole run)."""
    key = (str(exported_weights(weights)), name)
    if key not in _MODELS:
        from tfvae.deploy import runtime

        _MODELS[key] = runtime.load(os.path.join(key[0], name, "1"))["serving_default"]
    return _MODELS[key]


def decode(exported_weights, weights, z, label=None):
    """The SavedModel decoder's image of ``z`` (``[H, W]``, first channel)."""
    inputs = {"z": np.asarray([z], np.float32)}
    if label is not None:
        inputs["label"] = np.asarray([int(label)], np.int64)
    return savedmodel(exported_weights, weights, "decoder")(**inputs)["images"][0, :, :, 0]


# ------------------------------------------------------------ page helpers
def open_page(browser, server):
    if browser.current_url != server["url"]:
        browser.get(server["url"])
    headless.wait_ready(browser)


READ_CANVAS = """
const [sel, H, W] = arguments, c = document.querySelector(sel), s = c.width / W;
const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data, out = [];
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++)
  out.push(d[(Math.floor((y + 0.5) * s) * c.width + Math.floor((x + 0.5) * s)) * 4] / 255);
return {pixels: out, z: c.dataset.z ? JSON.parse(c.dataset.z) : null, label: c.dataset.label || null};
"""


def canvas(browser, selector="#decoded", shape=(28, 28)):
    """The canvas's image (the centre of each drawn pixel block, ``shape`` in [0, 1]), the z and label it shows."""
    got = browser.execute_script(READ_CANVAS, selector, *shape)
    return np.asarray(got["pixels"], np.float32).reshape(shape), got["z"], got["label"]


def draws(browser):
    return browser.execute_script("return window.explorer.draws")


def settled(browser, action, timeout=60):
    """Runs ``action()``, then waits until the page has redrawn and has no request out."""
    before = draws(browser)
    action()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if draws(browser) > before and browser.execute_script("return window.explorer.idle()"):
            return
        time.sleep(0.03)
    raise AssertionError(f"no redraw within {timeout} s (status: {browser.find_element('id', 'status').text!r})")


def shot(browser, tmp_path, name):
    headless.screenshot(browser, str(tmp_path / name))
    os.makedirs(SHOTS, exist_ok=True)
    headless.screenshot(browser, os.path.join(SHOTS, name))
    browser.set_window_size(1400, 1000)
    assert (tmp_path / name).stat().st_size > 10_000


def bundled():
    """The bundled test digits: ``[10 classes, 10, 28, 28]`` in [0, 1]."""
    from PIL import Image

    grid = np.asarray(Image.open(EXAMPLES), np.float32) / 255
    return grid.reshape(10, 28, 10, 28).transpose(0, 2, 1, 3)
