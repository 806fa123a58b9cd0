// tfvae explorer: its link to the model server (loaded before explorer.js, which uses window.tfvaeRest).
// Every model call is POST /v1/models/<decoder|encoder>:predict in TF Serving's row format
// ({"instances": [...]}), against the explorer's own server or the --serving_url; GET /v1/models/decoder
// is the heartbeat. The page's status line (#status) says whether the server answers.
"use strict";
window.tfvaeRest = (() => {
  // The server answered, with an error (a bad request): as opposed to a plain Error (no answer at all).
  class RequestError extends Error {}

  async function call(url, body, timeout) {
    const opts = { signal: AbortSignal.timeout(timeout) };
    // A plain-text body keeps a cross-origin request "simple" (no CORS preflight); TF Serving reads JSON anyway.
    if (body !== undefined) Object.assign(opts, { method: "POST", body: JSON.stringify(body) });
    let resp, answer;
    try {
      resp = await fetch(url, opts);
    } catch (e) {
      throw new Error(e.name === "TimeoutError" ? `no answer from ${url} within ${timeout / 1000} s`
        : `cannot reach ${url} (${e.message})`);
    }
    try {
      answer = await resp.json();
    } catch (e) {
      throw new Error(`HTTP ${resp.status} from ${url} is not JSON`);
    }
    if (!resp.ok || answer.error !== undefined) throw new RequestError(`HTTP ${resp.status}: ${answer.error}`);
    return answer;
  }

  // The link to one decoder/encoder pair as cfg (/explorer.json) describes it; E (window.explorer) counts errors.
  function connect(cfg, E, timeout = 20000, heartbeatMs = 3000) {
    const base = cfg.serving_url, [H, W, C] = cfg.input_shape, status = document.querySelector("#status");
    // A flat [H*W*C] image as the encoder's nested [H][W][C] input.
    const nest = (flat) => Array.from({ length: H }, (_, y) =>
      Array.from({ length: W }, (_, x) => Array.from({ length: C }, (_, c) => flat[(y * W + x) * C + c])));
    const link = {
      failing: null,  // null, "network", "request" or "start-failed" (the page could not start: reload it)
      setStatus(text, kind) {
        status.textContent = text;
        status.className = kind;
      },
      fail(err, kind) {
        link.failing = kind;
        E.errors++;
        const what = kind === "network" ? "The model server is not answering" : "The model server refused a request";
        link.setStatus(`${what}: ${err.message}`, "error");
      },
      ok() {
        link.failing = null;
        link.setStatus(`ready · ${base ? "TF Serving at " + base : "local TF Serving API"}`, "ok");
      },
      decoderRow: (z, label) => (cfg.conditional ? { z: Array.from(z), label } : { z: Array.from(z) }),
      encoderRow: (pixels, label) => (cfg.conditional ? { images: nest(pixels), label } : { images: nest(pixels) }),
      async predict(model, instances) {
        try {
          return (await call(`${base}/v1/models/${model}:predict`, { instances }, timeout)).predictions;
        } catch (e) {
          link.fail(e, e instanceof RequestError ? "request" : "network");
          throw e;
        }
      },
      async heartbeat() {
        try {
          await call(`${base}/v1/models/decoder`, undefined, heartbeatMs - 500);
          if (link.failing === "start-failed") location.reload();
          else if (link.failing === "network") link.ok();
        } catch (e) {
          if (!(e instanceof RequestError)) link.fail(e, "network");
        }
      },
    };
    setInterval(link.heartbeat, heartbeatMs);
    return link;
  }

  return { RequestError, call, connect };
})();
