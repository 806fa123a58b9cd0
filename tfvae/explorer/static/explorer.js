// tfvae explorer: moves through a VAE's latent space and draws the decoder's answer.
// Every model call is TF Serving's REST API (rest.js, loaded first), against this server or the
// --serving_url; /explorer.json says which, and describes the model.
// window.explorer exposes what tests and bench/explore_latency.py read: the z of the drawn image,
// draw counts and the input-to-redraw latencies (ms).
"use strict";
(() => {
  const $ = (sel) => document.querySelector(sel);
  const E = (window.explorer = { ready: false, draws: 0, latencies: [], errors: 0, z: null, label: null, waiters: [] });
  E.nextDraw = () => new Promise((resolve) => E.waiters.push(resolve));
  E.idle = () => !busy && !dirty;

  const MAX_SLIDERS = 16, MAP_GRID = 15;
  let RANGE = 3;  // sliders and map span ±RANGE: the prior's ±3 SD; an auto-encoder's, its encoded images'
  let cfg, api, H, W, C, L, scale;
  let z, label = 0, dims = [], examples = [], history = [];
  let busy = false, dirty = false, pendingSince = null;
  let mapImage = null;

  // ------------------------------------------------------------------ images
  const byte = (v) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));

  // Each pixel becomes an s x s block (nearest neighbour, exact values: the tests read them back).
  function paint(canvas, flat, s, at = [0, 0], ctx = null) {
    if (!ctx) {
      if (canvas.width !== W * s || canvas.height !== H * s) [canvas.width, canvas.height] = [W * s, H * s];
      ctx = canvas.getContext("2d");
    }
    const img = ctx.createImageData(W * s, H * s), d = img.data;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const i = (y * W + x) * C, r = byte(flat[i]);
        const g = C === 3 ? byte(flat[i + 1]) : r, b = C === 3 ? byte(flat[i + 2]) : r;
        for (let dy = 0; dy < s; dy++) {
          for (let dx = 0, o = ((y * s + dy) * W * s + x * s) * 4; dx < s; dx++, o += 4) {
            d[o] = r; d[o + 1] = g; d[o + 2] = b; d[o + 3] = 255;
          }
        }
      }
    }
    ctx.putImageData(img, at[0], at[1]);
  }

  // ------------------------------------------------------------ the decoder
  // Latest wins: moves that arrive while a request is out are folded into the next one.
  function requestDecode(since) {
    if (pendingSince === null) pendingSince = since ?? performance.now();
    dirty = true;
    if (!busy) pump();
  }
  async function pump() {
    busy = true;
    while (dirty) {
      dirty = false;
      const zs = Array.from(z), lab = label, since = pendingSince;
      pendingSince = null;
      let images;
      try {
        images = await api.predict("decoder", [api.decoderRow(zs, lab)]);
      } catch (e) {
        continue;
      }
      const canvas = $("#decoded");
      paint(canvas, images[0].flat(Infinity), scale);
      E.latencies.push(performance.now() - since);
      canvas.dataset.z = JSON.stringify(zs);
      canvas.dataset.label = String(lab);
      E.z = zs; E.label = lab; E.draws++;
      drawMarker();
      if (api.failing) api.ok();
      E.waiters.splice(0).forEach((resolve) => resolve(E.draws));
    }
    busy = false;
  }
  function setZ(values) {
    z.set(values);
    syncSliders();
    requestDecode();
  }

  // ---------------------------------------------------------------- sliders
  const fmt = (v) => (v >= 0 ? "+" : "−") + Math.abs(v).toFixed(2);
  function buildSliders(activity) {
    const box = $("#sliders");
    box.textContent = "";
    for (const d of dims) {
      const name = document.createElement("span"), input = document.createElement("input");
      const out = document.createElement("output");
      name.className = "dim";
      name.textContent = `z${d}`;
      if (activity) name.title = `variance of z_mean over the test images: ${activity[d].toFixed(3)}`;
      Object.assign(input, { type: "range", className: "latent", min: -RANGE, max: RANGE, step: 0.01, value: 0 });
      input.dataset.dim = d;
      input.addEventListener("input", (ev) => {
        z[d] = Number(input.value);
        out.textContent = fmt(z[d]);
        requestDecode(ev.timeStamp);
      });
      box.append(name, input, out);
    }
    syncSliders();
  }
  function syncSliders() {
    for (const input of document.querySelectorAll("input.latent")) {
      const v = z[Number(input.dataset.dim)];
      input.value = Math.max(-RANGE, Math.min(RANGE, v));
      input.nextElementSibling.textContent = fmt(v);
    }
  }
  function randn() {
    const u = 1 - Math.random(), v = Math.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  // --------------------------------------------------------- manifold map
  async function buildMap() {
    const rows = [], step = (2 * RANGE) / (MAP_GRID - 1);
    for (let j = 0; j < MAP_GRID; j++) {
      for (let i = 0; i < MAP_GRID; i++) rows.push(api.decoderRow([-RANGE + i * step, RANGE - j * step], label));
    }
    const images = await api.predict("decoder", rows);
    const off = document.createElement("canvas");
    [off.width, off.height] = [MAP_GRID * W, MAP_GRID * H];
    const ctx = off.getContext("2d");
    images.forEach((img, k) => paint(null, img.flat(Infinity), 1, [(k % MAP_GRID) * W, Math.floor(k / MAP_GRID) * H], ctx));
    mapImage = off;
    drawMarker();
  }
  const cellOf = (v, axis) => (axis ? (RANGE - v) : (v + RANGE)) / ((2 * RANGE) / (MAP_GRID - 1)) + 0.5;
  function drawMarker() {
    if (!mapImage) return;
    const canvas = $("#map"), ctx = canvas.getContext("2d");
    [canvas.width, canvas.height] = [mapImage.width, mapImage.height];
    ctx.drawImage(mapImage, 0, 0);
    const zs = E.z || Array.from(z), x = cellOf(zs[0], 0) * W, y = cellOf(zs[1], 1) * H;
    ctx.lineWidth = 3;
    ctx.strokeStyle = "#ff3b30";
    ctx.beginPath();
    ctx.arc(x, y, Math.max(W, H) * 0.45, 0, 2 * Math.PI);
    ctx.stroke();
    canvas.dataset.marker = JSON.stringify([x, y]);
  }
  function onMapClick(ev) {
    const canvas = $("#map"), rect = canvas.getBoundingClientRect();
    const px = ((ev.clientX - rect.left) / rect.width) * canvas.width, py = ((ev.clientY - rect.top) / rect.height) * canvas.height;
    const step = (2 * RANGE) / (MAP_GRID - 1);
    z[0] = -RANGE + (px / W - 0.5) * step;
    z[1] = RANGE - (py / H - 0.5) * step;
    syncSliders();
    requestDecode(ev.timeStamp);
  }

  // ---------------------------------------------------------------- encoding
  async function encode(items) {
    const rows = items.map((it) => api.encoderRow(it.pixels, it.label));
    return (await api.predict("encoder", rows)).map((p) => Float32Array.from(p.z_mean));
  }
  async function show(item) {
    const s = Math.max(1, Math.floor(140 / Math.max(H, W)));
    paint($("#input"), item.pixels, s);
    if (!item.z) [item.z] = await encode([item]);
    const [recon] = await api.predict("decoder", [api.decoderRow(item.z, item.label)]);
    paint($("#recon"), recon.flat(Infinity), s);
    $("#recon").dataset.z = JSON.stringify(Array.from(item.z));
    history = [history[history.length - 1], item].filter(Boolean);
    showInterpolation();
    if (cfg.conditional) setLabel(item.label);
    setZ(item.z);
  }
  function showInterpolation() {
    const slider = $("#interp");
    slider.disabled = history.length < 2;
    const s = Math.max(1, Math.floor(56 / Math.max(H, W)));
    if (history.length > 0) paint($("#interp-b"), history[history.length - 1].pixels, s);
    if (history.length > 1) paint($("#interp-a"), history[0].pixels, s);
    slider.value = 1;
  }
  function onInterpolate(ev) {
    if (history.length < 2) return;
    const t = Number($("#interp").value), [a, b] = [history[0].z, history[1].z];
    for (let k = 0; k < L; k++) z[k] = (1 - t) * a[k] + t * b[k];
    syncSliders();
    requestDecode(ev.timeStamp);
  }
  function pixelsOf(ctx, x, y) {
    const data = ctx.getImageData(x, y, W, H).data, out = new Float32Array(H * W * C);
    for (let p = 0; p < H * W; p++) {
      for (let c = 0; c < C; c++) out[p * C + c] = C === 3 ? data[p * 4 + c] / 255
        : (0.299 * data[p * 4] + 0.587 * data[p * 4 + 1] + 0.114 * data[p * 4 + 2]) / 255;
    }
    return out;
  }
  async function loadExamples() {
    const img = new Image();
    img.src = cfg.examples.url;
    await img.decode();
    const ctx = Object.assign(document.createElement("canvas"), { width: img.width, height: img.height })
      .getContext("2d", { willReadFrequently: true });
    ctx.drawImage(img, 0, 0);
    const per = cfg.examples.per_class;
    for (let k = 0; k * H < img.height; k++) {
      for (let j = 0; j < per; j++) examples.push({ pixels: pixelsOf(ctx, j * W, k * H), label: k, name: cfg.examples.class_names[k] });
    }
    const box = $("#examples");
    for (const ex of examples.filter((_, i) => i % per === 0)) {
      const thumb = document.createElement("canvas");
      paint(thumb, ex.pixels, 2);
      thumb.title = `test image, class ${ex.name}: encode it`;
      thumb.dataset.label = ex.label;
      thumb.addEventListener("click", () => {
        document.querySelectorAll("#examples canvas").forEach((c) => c.classList.toggle("picked", c === thumb));
        show(ex).catch(() => {});
      });
      box.append(thumb);
    }
  }
  async function onUpload() {
    const file = $("#upload").files[0];
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const ctx = Object.assign(document.createElement("canvas"), { width: W, height: H }).getContext("2d");
    const f = Math.min(W / bitmap.width, H / bitmap.height), w = bitmap.width * f, h = bitmap.height * f;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, W, H);
    ctx.drawImage(bitmap, (W - w) / 2, (H - h) / 2, w, h);
    const pixels = pixelsOf(ctx, 0, 0), mean = pixels.reduce((a, b) => a + b, 0) / pixels.length;
    if ($("#invert").checked && mean > 0.5) pixels.forEach((v, i) => (pixels[i] = 1 - v));
    await show({ pixels, label, name: file.name });
  }

  // ------------------------------------------ which dimensions get sliders
  // The most active: variance of z_mean over the bundled test images; without them, how much the decoder's
  // image changes when a dimension moves from 0 to 2 (one batched request).
  async function rankDimensions() {
    const all = [...Array(L).keys()];
    if (L <= MAX_SLIDERS && !examples.length) return { dims: all, note: `all ${L} dimensions` };
    let score;
    if (examples.length) {
      const zs = await encode(examples);
      zs.forEach((zm, i) => (examples[i].z = zm));
      if (!cfg.stochastic) RANGE = Math.max(1, Math.ceil(Math.max(...zs.map((v) => Math.max(...v.map(Math.abs))))));
      score = all.map((k) => {
        const m = zs.reduce((a, v) => a + v[k], 0) / zs.length;
        return zs.reduce((a, v) => a + (v[k] - m) ** 2, 0) / zs.length;
      });
    } else {
      const rows = [api.decoderRow(new Array(L).fill(0), label)].concat(all.map((k) => api.decoderRow(all.map((j) => (j === k ? 2 : 0)), label)));
      const images = (await api.predict("decoder", rows)).map((im) => im.flat(Infinity));
      score = all.map((k) => images[k + 1].reduce((a, v, i) => a + Math.abs(v - images[0][i]), 0));
    }
    if (L <= MAX_SLIDERS) return { dims: all, note: `all ${L} dimensions`, score };
    const top = all.sort((a, b) => score[b] - score[a]).slice(0, MAX_SLIDERS);
    const how = examples.length ? `variance of z_mean over ${examples.length} test images` : "decoder sensitivity";
    return { dims: top, note: `the ${MAX_SLIDERS} most active of ${L} (${how})`, score };
  }

  // -------------------------------------------------------------- start-up
  function describe() {
    $("#name").textContent = cfg.name;
    document.title = `tfvae explorer: ${cfg.name}`;
    const bin = cfg.binarize && cfg.binarize !== "none" ? ` (binarize ${cfg.binarize})` : "";
    $("#about").textContent = `${cfg.dataset}${bin} · ${cfg.kind}, ${cfg.arch}, ${cfg.likelihood} · latent ${L} · ` +
      `images ${H}×${W}×${C}`;
    // cfg.metrics_shown: names, values and units as tfvae.evaluation.report formats them, in the order to show
    // (tfvae weights' summary for this likelihood first); cfg.metrics_note: split, images, K, binarization, bounds
    const parts = cfg.metrics_shown.map((m) => `${m.name} <b>${m.value}</b>${m.unit ? " " + m.unit : ""}`);
    $("#metrics").innerHTML = parts.length ? `${parts.join(" · ")} <span>(${cfg.metrics_note})</span>` : "no metrics.json (tfvae eval writes one)";
    $("#endpoint").textContent = `${cfg.serving_url || location.origin}/v1/models/{decoder,encoder}`;
  }
  function setLabel(k) {
    label = k;
    $("#label").value = String(k);
  }
  async function start() {
    cfg = await (await fetch("explorer.json")).json();
    [H, W, C] = cfg.input_shape;
    L = cfg.latent_dim;
    api = window.tfvaeRest.connect(cfg, E);
    scale = Math.max(1, Math.floor(336 / Math.max(H, W)));
    z = new Float32Array(L);
    describe();
    for (const [sel, box] of [["#input", 140], ["#recon", 140], ["#interp-a", 56], ["#interp-b", 56]]) {
      const s = Math.max(1, Math.floor(box / Math.max(H, W)));  // empty until an image is encoded: its shape
      [$(sel).width, $(sel).height] = [W * s, H * s];
    }
    if (cfg.conditional) {
      cfg.class_names.forEach((n, k) => $("#label").append(new Option(n, k)));
      $("#label-row").hidden = false;
      $("#label").addEventListener("change", () => {
        label = Number($("#label").value);
        requestDecode();
        if (L === 2) buildMap().catch(() => {});
      });
    }
    $("#temperature").addEventListener("input", () => ($("#temperature-value").textContent = Number($("#temperature").value).toFixed(2)));
    $("#sample").addEventListener("click", (ev) => {
      const t = Number($("#temperature").value);
      z.forEach((_, k) => (z[k] = t * randn()));
      syncSliders();
      requestDecode(ev.timeStamp);
    });
    if (!cfg.stochastic) {  // an auto-encoder: no prior to draw z from; the sliders and the encoder still work
      $("#sample").disabled = $("#temperature").disabled = true;
      $("#sample-note").hidden = false;
    }
    $("#zero").addEventListener("click", () => setZ(new Float32Array(L)));
    $("#interp").addEventListener("input", onInterpolate);
    $("#upload").addEventListener("change", () => onUpload().catch((e) => api.fail(e, "request")));
    $("#map").addEventListener("click", onMapClick);
    api.setStatus("loading the model…", "busy");
    if (cfg.examples) {
      $("#invert").checked = true;
      await loadExamples();
    } else {
      $("#examples").append(Object.assign(document.createElement("small"),
        { textContent: `No bundled test images for ${cfg.dataset} (${H}×${W}): upload one.` }));
    }
    const ranked = await rankDimensions();
    dims = ranked.dims;
    $("#dims-note").textContent = `${ranked.note} · ±${RANGE}`;
    buildSliders(examples.length ? ranked.score : null);
    if (L === 2) {
      $("#latent").append($("#map-box"));  // two sliders leave the column free for the map
      $("#map-box").hidden = false;
      await buildMap();
    }
    if (examples.length) {
      history = [examples[examples.length > 10 ? cfg.examples.per_class : 0]];
      await show(examples[0]);
    } else {
      requestDecode();
    }
    await E.nextDraw();
    api.ok();
    E.ready = true;
    document.body.dataset.ready = "1";
  }
  start().catch((e) => {
    const status = $("#status");
    // Unreachable: the heartbeat reloads the page when the server answers again.
    if (api && api.failing === "network") api.failing = "start-failed";
    else [status.textContent, status.className] = [`The explorer could not start: ${e.message}`, "error"];
  });
})();
