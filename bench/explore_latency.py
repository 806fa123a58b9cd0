"""Latency of ``tfvae explore`` in a real browser: a slider's ``input`` event to the redrawn ``canvas#decoded``.

Starts ``tfvae explore --no_browser --port 0`` (the shipped ``better_weight`` by default) in a subprocess,
opens the page in headless Chromium (selenium, driving Debian's ``chromium`` through ``chromedriver``),
and moves the first latent slider ``--moves`` times, each move waiting for its redraw. The page measures
itself: ``performance.now()`` after ``putImageData`` minus the ``input`` event's ``timeStamp``
(``window.explorer.latencies``), so the figure covers the event handler, the ``POST
/v1/models/decoder:predict`` round trip (JSON both ways, the SavedModel's run) and the drawing. The first
``--warmup`` moves are not counted. Prints p50, p99 and max; the last line is one JSON object.

    python bench/explore_latency.py [--load_weight_dir better_weight] [--moves 100] [--url URL]
                                    [--screenshot docs/explorer.png]

``--url`` measures a page already served (``tfvae explore`` running elsewhere). The browser, the explorer
subprocess and the slider probe are ``tfvae.explorer.headless``'s, which the browser tests (tests/browser/) use
too. Needs ``apt-get install chromium chromium-driver`` and ``pip install selenium``.
"""

import argparse
import json
import os
import platform
import sys

from tfvae.explorer.headless import chrome, find_browser, measure, screenshot, start_explorer, stop_explorer, wait_ready


def percentile(values, q):
    """Nearest rank: the smallest value with at least q % of the values at or below it."""
    import math

    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(q / 100 * len(ordered)))) - 1]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--load_weight_dir", default="better_weight")
    p.add_argument("--moves", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--url", default=None, help="measure this page instead of starting tfvae explore")
    p.add_argument("--screenshot", default=None, help="also save a screenshot of the page (PNG)")
    args = p.parse_args()
    found, why = find_browser()
    if not found:
        sys.exit(f"explore_latency: {why}")
    proc, url = (None, args.url) if args.url else start_explorer(["--load_weight_dir", args.load_weight_dir])
    browser = chrome(*found)
    try:
        browser.get(url)
        wait_ready(browser)
        measure(browser, args.warmup)
        ms = measure(browser, args.moves)
        if args.screenshot:
            screenshot(browser, args.screenshot)
    finally:
        browser.quit()
        if proc:
            stop_explorer(proc)
    row = {"p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99), "max_ms": max(ms), "moves": len(ms),
           "weights": args.load_weight_dir, "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine()}
    print(f"slider input -> redrawn canvas, {len(ms)} moves ({args.load_weight_dir}, {os.cpu_count()} CPUs): "
          f"p50 {row['p50_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms (aim: p50 <= 30 ms)")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
