"""``tfvae explore`` in a real browser, the shipped ``better_weight``: sliders, sampling, encoding, uploads,
the latency probe, ``--serving_url`` and Ctrl-C.

One browser and one ``tfvae explore --no_browser --port 0`` subprocess serve the whole module; each page's pixels
are checked against the SavedModel's own decode of the z the page reports. The other kinds of model (a cvae,
2-D latents, non-square Gaussian faces, an auto-encoder) are in tests/browser/test_explore_browser_models.py; the shared
helpers in tests/helpers/browser.py.
"""

import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from tfvae.explorer import headless
from tests.helpers.browser import (TOLERANCE, bundled, canvas, decode, open_page, savedmodel,
                                  serve, settled, shot)


@pytest.fixture(scope="module")
def explorers(browser):
    """``{"better": {"proc", "url", "weights"}}``: the shipped better_weight, served."""
    servers = {"better": serve("better_weight")}
    yield servers
    for s in servers.values():
        headless.stop_explorer(s["proc"])


# ----------------------------------------------------------- better_weight
def test_a_slider_redraws_what_the_savedmodel_decodes(browser, explorers, exported_weights):
    from selenium.webdriver.common.action_chains import ActionChains

    better = explorers["better"]
    open_page(browser, better)
    sliders = browser.find_elements("css selector", "input.latent[type=range]")
    assert len(sliders) == 16 and {s.get_attribute("min") for s in sliders} == {"-3"}
    before, z_before, _ = canvas(browser)
    slider = sliders[0]
    width = slider.size["width"]
    settled(browser, lambda: ActionChains(browser).move_to_element_with_offset(slider, int(width * 0.45), 0)
             .click().perform())
    image, z, _ = canvas(browser)
    dim = int(slider.get_attribute("data-dim"))
    assert z != z_before and abs(z[dim] - float(slider.get_attribute("value"))) < 1e-5 and z[dim] > 2
    for s in sliders:  # the z drawn is the sliders' z
        assert abs(z[int(s.get_attribute("data-dim"))] - float(s.get_attribute("value"))) <= 0.005 + 1e-5
    assert np.abs(image - before).mean() > 0.005, "the slider did not change the image"
    want = decode(exported_weights, better["weights"], z)
    assert np.abs(image - want).max() <= TOLERANCE + 1e-6, np.abs(image - want).max()


def test_sample_draws_a_new_image_from_the_prior(browser, explorers, exported_weights):
    open_page(browser, explorers["better"])
    before, z_before, _ = canvas(browser)
    settled(browser, lambda: browser.find_element("id", "sample").click())
    image, z, _ = canvas(browser)
    assert len(z) == 128 and np.count_nonzero(z) == 128 and 0.5 < np.std(z) < 1.6
    assert np.abs(image - before).mean() > 0.01
    want = decode(exported_weights, explorers["better"]["weights"], z)
    assert np.abs(image - want).max() <= TOLERANCE + 1e-6


def test_an_encoded_test_digit_is_reconstructed_and_sets_the_sliders(browser, explorers, tmp_path, exported_weights):
    better = explorers["better"]
    open_page(browser, better)
    digit = bundled()[7, 0]
    settled(browser, lambda: browser.find_element("css selector", '#examples canvas[data-label="7"]').click())
    recon, z_recon, _ = canvas(browser, "#recon")
    shown, _, _ = canvas(browser, "#input")
    _, z, _ = canvas(browser)
    assert np.abs(shown - digit).max() < 1e-6 and z == z_recon
    want = savedmodel(exported_weights, better["weights"], "encoder")(
        images=digit[None, :, :, None])["z_mean"][0]
    np.testing.assert_allclose(z, want, atol=1e-4)
    assert recon.mean() > 0.05 and np.corrcoef(recon.ravel(), digit.ravel())[0, 1] > 0.8
    for s in browser.find_elements("css selector", "input.latent"):
        assert abs(float(s.get_attribute("value")) - np.clip(want[int(s.get_attribute("data-dim"))], -3, 3)) <= 0.006
    # interpolation: the far ends are the two last encoded images (A: the digit 0 shown at start, B: this 7)
    move = "const i = document.querySelector('#interp'); i.value = arguments[0]; i.dispatchEvent(new Event('input'));"
    settled(browser, lambda: browser.execute_script(move, "0"))
    _, z_a, _ = canvas(browser)
    assert np.abs(np.asarray(z_a) - want).max() > 0.1
    settled(browser, lambda: browser.execute_script(move, "0.5"))
    _, z_mid, _ = canvas(browser)
    np.testing.assert_allclose(z_mid, (np.asarray(z_a) + want) / 2, atol=1e-4)
    shot(browser, tmp_path, "better_weight.png")


def test_an_upload_is_resized_inverted_and_encoded(browser, explorers, tmp_path, exported_weights):
    from PIL import Image

    better = explorers["better"]
    open_page(browser, better)
    digit = bundled()[3, 0]
    photo = tmp_path / "three.png"  # dark ink on white paper, 3x the size, in colour
    Image.fromarray(np.uint8(255 - digit * 255)).resize((84, 84), Image.NEAREST).convert("RGB").save(photo)
    settled(browser, lambda: browser.find_element("id", "upload").send_keys(str(photo)))
    shown, _, _ = canvas(browser, "#input")
    assert np.abs(shown - digit).mean() < 0.05, np.abs(shown - digit).mean()  # back to 28x28, light on dark
    recon, z, _ = canvas(browser, "#recon")
    want = savedmodel(exported_weights, better["weights"], "encoder")(
        images=shown[None, :, :, None])["z_mean"][0]
    np.testing.assert_allclose(z, want, atol=1e-3)
    assert np.corrcoef(recon.ravel(), digit.ravel())[0, 1] > 0.8


def test_the_latency_probe_the_benchmark_uses(browser, explorers):
    open_page(browser, explorers["better"])
    latencies = headless.measure(browser, moves=5)  # bench/explore_latency.py reports the figures; no timing here
    assert len(latencies) == 5 and all(v > 0 for v in latencies)


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
    better = explorers["better"]
    proxy = _CorsProxy(better["url"])  # TF Serving's REST API (here: better_weight's explorer) behind CORS
    page = serve("better_weight", "--serving_url", proxy.url)
    try:
        open_page(browser, page)
        assert browser.execute_script("return performance.getEntriesByType('resource').some("
                                      "(e) => e.name.startsWith(arguments[0] + '/v1/models/encoder:predict'))",
                                      proxy.url)
        _, z_before, _ = canvas(browser)
        settled(browser, lambda: browser.find_element("id", "sample").click())
        assert canvas(browser)[1] != z_before
        assert "TF Serving at " + proxy.url in browser.find_element("id", "status").text
    finally:
        rc, _, err = headless.stop_explorer(page["proc"])
        proxy.close()
    assert rc == 0 and "Traceback" not in err


def test_ctrl_c_stops_the_server_and_the_page_says_it_is_gone(browser, explorers):
    better = explorers["better"]
    open_page(browser, better)
    rc, out, err = headless.stop_explorer(better["proc"])
    assert rc == 0 and out.strip() == "tfvae: explorer stopped" and err == "", (rc, out, err)  # a quiet terminal
    deadline = time.time() + 15
    status = browser.find_element("id", "status")
    while "error" not in status.get_attribute("class") and time.time() < deadline:
        time.sleep(0.2)
    assert "error" in status.get_attribute("class") and "not answering" in status.text, status.text
    assert status.is_displayed()
