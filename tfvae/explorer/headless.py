"""``tfvae explore`` in headless Chromium, for developers: what bench/explore_latency.py and the browser tests share.

Finds Debian's ``chromium`` and ``chromedriver``, starts a headless driver under selenium (offline: no Selenium
Manager download), starts ``tfvae explore --no_browser --port 0`` in a subprocess and reads its URL, waits until
the page is ready, moves a latent slider and reads the page's own latencies, takes a whole-page screenshot.
Nothing here runs when tfvae is used; it needs ``apt-get install chromium chromium-driver`` and
``pip install selenium`` (in the ``test`` extra).
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

INSTALL = "apt-get install chromium chromium-driver"
URL_LINE = re.compile(r"tfvae: exploring .* at (http://\S+/) ")
# the directory that holds this tfvae package: a subprocess started here imports the same tfvae
_HOME = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_browser():
    """``(chromium, chromedriver)`` paths, or ``(None, why)``: a line saying what is missing and how to install it."""
    chromium = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.isfile("/usr/bin/chromedriver") else None)
    if not chromium or not driver:
        missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
        return None, f"{missing} not found: {INSTALL}"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None, "selenium is not installed: pip install -e \".[test]\" (or pip install selenium)"
    return (chromium, driver), ""


def chrome(chromium, driver, width=1400, height=1000):
    """Headless Chromium under selenium, offline (no Selenium Manager download, no usage statistics)."""
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_script_timeout(300)
    return browser


def launch_explorer(args, env=None):
    """Starts ``tfvae explore --no_browser --port 0 ARGS`` in a subprocess and returns it (``explorer_url`` waits)."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join([_HOME] + [p for p in [env.get("PYTHONPATH")] if p])
    proc = subprocess.Popen([sys.executable, "-m", "tfvae", "explore", "--no_browser", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    proc.explore_args = args
    return proc


def explorer_url(proc, timeout=300):
    """The URL a launched explorer prints once it serves (it is killed if none comes)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        m = URL_LINE.search(line)
        if m:
            return m.group(1)
    proc.kill()
    raise RuntimeError(f"tfvae explore {' '.join(proc.explore_args)} printed no URL (exit {proc.poll()}): "
                       f"{proc.stderr.read()[-2000:]}")


def start_explorer(args, timeout=300, env=None):
    """``tfvae explore --no_browser --port 0 ARGS`` in a subprocess: ``(process, url)`` once it prints its URL."""
    proc = launch_explorer(args, env)
    return proc, explorer_url(proc, timeout)


def stop_explorer(proc, timeout=30):
    """Ctrl-C (SIGINT) and wait: ``(returncode, stdout rest, stderr)``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def wait_ready(browser, timeout=120):
    """Waits until the page says it is ready (``window.explorer.ready``)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if browser.execute_script("return !!(window.explorer && window.explorer.ready)"):
            return
        time.sleep(0.1)
    status = browser.execute_script("const s = document.querySelector('#status'); return s && s.textContent")
    raise RuntimeError(f"the page did not get ready in {timeout} s (status: {status!r})")


MOVES = """
const [moves, done] = [arguments[0], arguments[arguments.length - 1]];
const E = window.explorer, input = document.querySelector("input.latent"), out = [];
(async () => {
  for (let i = 0; i < moves; i++) {
    const drawn = E.nextDraw();
    input.value = (((i % 2) ? 1 : -1) * (0.3 + (i % 27) / 10)).toFixed(2);
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await drawn;
    out.push(E.latencies[E.latencies.length - 1]);
  }
  done(out);
})().catch((e) => done(String(e)));
"""


def measure(browser, moves=100):
    """Moves the first slider ``moves`` times (each waiting for its redraw); the latencies in ms."""
    result = browser.execute_async_script(MOVES, int(moves))
    if not isinstance(result, list):
        raise RuntimeError(f"the page failed while measuring: {result}")
    return [float(v) for v in result]


def screenshot(browser, path, width=1400):
    """The whole page as a PNG: the window grown to the page's height, the picture cut to it."""
    from PIL import Image

    height = browser.execute_script("return Math.ceil(document.body.getBoundingClientRect().height)")
    browser.set_window_size(width, height + 200)  # room for any window frame; cut below
    time.sleep(0.3)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    browser.save_screenshot(path)
    ratio = browser.execute_script("return window.devicePixelRatio") or 1
    with Image.open(path) as shot:
        page = shot.crop((0, 0, shot.width, min(shot.height, int(height * ratio)))).convert("RGB")
    page.save(path, optimize=True)
    return path
