"""``tfvae explore`` in a real browser for the other kinds of model: a cvae's label selector, a 2-D latent's
manifold map, non-square Gaussian faces (Frey, 28x20) and an auto-encoder (no prior to sample from).

Shipped weights when this checkout has them (``weights/mnist_cvae``, ``weights/mnist_z2``,
``weights/freyface_z2``, ``weights/olivetti_ae``), else small models trained here (a cvae with a 2-D latent
in ~20 s, which serves both the label and the map tests; a tiny auto-encoder in ~10 s; the Frey test skips).
Helpers: tests/helpers/browser.py.
"""

import json
import os

import numpy as np
import pytest

from tfvae.explorer import headless
from tests.helpers.browser import (TOLERANCE, bundled, canvas, decode, finish, model_config,
                                  open_page, serve, settled, shipped, shot, train)


@pytest.fixture(scope="module")
def explorers(browser, tmp_path_factory):
    """``explorers(role)``: the server of "cvae", "flat" (2-D latent), "faces" or "ae", started when first asked for.

    What must be trained starts training at once, in the background, while the shipped ones are tested.
    """
    work = tmp_path_factory.mktemp("explore")
    cvae = shipped("mnist_cvae")
    flat = shipped("mnist_z2") or (cvae if cvae and model_config(cvae)["latent_dim"] == 2 else None)
    weights = {"cvae": cvae, "flat": flat, "faces": shipped("freyface_z2"), "ae": shipped("olivetti_ae")}
    training = {}
    if not (cvae and flat):  # a small cvae with a 2-D latent serves both
        training["cvae2"] = train(work / "cvae2", "--model", "cvae", "--dataset", "mnist", "--binarize", "dynamic",
                                  "--latent_dim", "2", "--epoch", "6", "--train_examples", "10000", "--val_examples",
                                  "500")
        weights["cvae"], weights["flat"] = cvae or str(work / "cvae2"), flat or str(work / "cvae2")
    if not weights["ae"]:
        training["ae"] = train(work / "ae", "--model", "ae", "--likelihood", "mse", "--dataset", "mnist", "--latent_dim",
                               "4", "--hidden", "64", "--epoch", "2", "--train_examples", "2000", "--val_examples", "100")
        weights["ae"] = str(work / "ae")
    servers = {}

    def get(role):
        if weights[role] is None:
            pytest.skip(f"no weights for {role} here")
        for name, proc in training.items():
            if weights[role] == str(work / name) and proc.returncode is None:
                finish(proc)
        if weights[role] not in servers:
            servers[weights[role]] = serve(weights[role])
        return servers[weights[role]]

    try:
        yield get
    finally:
        for proc in training.values():
            if proc.poll() is None:
                proc.kill()
        for s in servers.values():
            headless.stop_explorer(s["proc"])


def _displayed(browser, selector):
    """``[shown width, shown height, canvas width, canvas height]`` of a canvas."""
    return browser.execute_script("const c = document.querySelector(arguments[0]), r = c.getBoundingClientRect(); "
                                  "return [r.width, r.height, c.width, c.height];", selector)


# ------------------------------------------------------------- 2-D latent
def test_the_manifold_map_moves_z_where_it_is_clicked(browser, explorers, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains

    flat = explorers("flat")
    open_page(browser, flat)
    themap = browser.find_element("id", "map")
    assert themap.is_displayed()
    rect = browser.execute_script("const r = arguments[0].getBoundingClientRect(); "
                                  "return [r.width, r.height, arguments[0].width, arguments[0].height];", themap)
    tiles = browser.execute_script("return arguments[0].getContext('2d').getImageData(0, 0, arguments[0].width, "
                                   "arguments[0].height).data.filter((v, i) => i % 4 === 0).reduce((a, v) => a + v, 0)",
                                   themap) / (rect[2] * rect[3] * 255)
    assert tiles > 0.05, "the map is blank"
    dx, dy = int(rect[0] * 0.3), int(-rect[1] * 0.2)  # right of and above the centre: z0 > 0, z1 > 0
    settled(browser, lambda: ActionChains(browser).move_to_element_with_offset(themap, dx, dy).click().perform())
    _, z, _ = canvas(browser)
    step, cell = 6 / 14, rect[2] / 15
    px, py = (rect[0] / 2 + dx) * rect[2] / rect[0], (rect[1] / 2 + dy) * rect[3] / rect[1]
    assert abs(z[0] - (-3 + (px / cell - 0.5) * step)) < 0.05 and abs(z[1] - (3 - (py / cell - 0.5) * step)) < 0.05, z
    marker = json.loads(themap.get_attribute("data-marker"))
    assert abs(marker[0] - px) < 2 and abs(marker[1] - py) < 2
    shot(browser, tmp_path, f"{os.path.basename(flat['weights'])}.png")  # mnist_z2.png




# ------------------------------------------------- Gaussian faces, 28 x 20
def test_non_square_faces_keep_their_aspect_ratio(browser, explorers, tmp_path, exported_weights):
    faces = explorers("faces")
    open_page(browser, faces)
    h, w = model_config(faces["weights"])["input_shape"][:2]
    assert h != w
    for selector in ("#decoded", "#map", "#recon"):
        shown_w, shown_h, width, height = _displayed(browser, selector)
        if selector != "#recon" or width != 140:  # #recon is drawn once something is encoded
            assert abs(width / height - w / h) < 1e-6 and abs(shown_w / shown_h - w / h) < 0.02, \
                (selector, shown_w, shown_h, width, height)
    settled(browser, lambda: browser.find_element("id", "sample").click())
    image, z, _ = canvas(browser, shape=(h, w))
    want = np.clip(decode(exported_weights, faces["weights"], z), 0, 1)  # a Gaussian mean
    assert np.abs(image - want).max() <= TOLERANCE + 1e-6, np.abs(image - want).max()
    metrics = browser.find_element("id", "metrics").text
    assert "bits/dim" not in metrics and "-ELBO" not in metrics, metrics  # a density: ELBO and NLL, no bits
    shot(browser, tmp_path, "freyface_z2.png")


# ------------------------------------------------------- an auto-encoder
def test_an_auto_encoder_cannot_sample_but_its_sliders_decode(browser, explorers, tmp_path, exported_weights):
    ae = explorers("ae")
    open_page(browser, ae)
    assert not browser.find_element("id", "sample").is_enabled()
    assert "no prior" in browser.find_element("id", "sample-note").text
    shape = tuple(model_config(ae["weights"])["input_shape"][:2])
    slider = browser.find_element("css selector", "input.latent")
    move = "arguments[0].value = '1.5'; arguments[0].dispatchEvent(new Event('input'));"
    settled(browser, lambda: browser.execute_script(move, slider))
    image, z, _ = canvas(browser, shape=shape)
    assert abs(z[int(slider.get_attribute("data-dim"))] - 1.5) < 1e-6
    want = np.clip(decode(exported_weights, ae["weights"], z), 0, 1)
    assert np.abs(image - want).max() <= TOLERANCE + 1e-6, np.abs(image - want).max()
    assert "KL" not in browser.find_element("id", "metrics").text
    shot(browser, tmp_path, "olivetti_ae.png" if "olivetti" in ae["weights"] else "ae.png")


# ------------------------------------------- cvae (last: it may still be training before)
def test_the_label_selector_changes_the_digit_class(browser, explorers, exported_weights):
    from selenium.webdriver.support.select import Select

    cvae = explorers("cvae")
    open_page(browser, cvae)
    settled(browser, lambda: browser.find_element("id", "zero").click())
    select = Select(browser.find_element("id", "label"))
    assert [o.text for o in select.options] == [str(k) for k in range(10)]
    images = {}
    for k in [*range(1, 10), 0]:  # the page starts at class 0: the first choice must be a change
        settled(browser, lambda: select.select_by_value(str(k)))
        image, z, label = canvas(browser)
        assert label == str(k) and not np.any(z)
        images[k] = image
    images = [images[k] for k in range(10)]
    want = decode(exported_weights, cvae["weights"], np.zeros(model_config(cvae["weights"])["latent_dim"]), 3)
    assert np.abs(images[3] - want).max() <= TOLERANCE + 1e-6
    diffs = [np.abs(images[k] - images[k - 1]).mean() for k in range(1, 10)]
    assert min(diffs) > 0.02, diffs
    # which class does each image look like? the nearest mean of the bundled test digits (correlation)
    means = bundled().mean(axis=1).reshape(10, -1)
    nearest = [int(np.argmax([np.corrcoef(im.ravel(), m)[0, 1] for m in means])) for im in images]
    assert sum(n == k for k, n in enumerate(nearest)) >= 8, nearest
