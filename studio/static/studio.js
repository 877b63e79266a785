// The studio page: inputs A and B, the slerp path against the data-space line, attribute sliders, sampling, and a
// small Web Audio synth with a play head. The server does the model's work; this page holds the sequences it
// returned (tokens, code z, notes per part) and sends them back, so reloading loses nothing the server kept.
"use strict";

const $ = (id) => document.getElementById(id);
const PART_COLOURS = ["#4fc3f7", "#81c784", "#ffb74d"]; // melody, bass, drums: a trio's parts apart at a glance
const state = { model: null, slots: { a: null, b: null }, path: null, base: null, shown: null, dataShown: null,
                amounts: {}, request: 0, playing: null };
const studio = { state, audio: null, notesScheduled: 0 }; // what the browser tests read
window.studio = studio;

// --- talking to the server -------------------------------------------------------------------------------------

async function call(url, options = {}) {
  status("working…");
  try {
    const response = await fetch(url, options);
    const body = await response.json().catch(() => ({ error: `the server answered ${response.status}` }));
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    showError("");
    return body;
  } catch (e) {
    showError(e.message);
    throw e;
  } finally {
    status("");
  }
}
const post = (url, body) => call(url, { method: "POST", headers: { "Content-Type": "application/json" },
                                        body: JSON.stringify(body) });

function status(text) { $("status").textContent = text; }
function showError(text) { $("error").hidden = !text; $("error").textContent = text; }

// --- piano rolls -------------------------------------------------------------------------------------------------

function pitchRange(sequences) {
  let low = 127, high = 0;
  for (const s of sequences) for (const part of s.parts) for (const [pitch] of part.notes) {
    low = Math.min(low, pitch); high = Math.max(high, pitch);
  }
  if (low > high) return [55, 80];
  const widen = Math.max(2, Math.ceil((24 - (high - low)) / 2)); // at least two octaves: a few notes stay in scale
  return [low - widen, high + widen];
}

// Draws `sequence` into a rectangle of the canvas: notes as bars, time left to right, pitch bottom to top.
function drawRoll(ctx, sequence, x, y, w, h, range, highlight = false) {
  ctx.fillStyle = highlight ? "#263238" : "#10141a";
  ctx.fillRect(x, y, w, h);
  if (!sequence) {
    const hint = ctx.canvas.dataset.hint; // an empty panel says what fills it
    if (hint) {
      ctx.fillStyle = "#8a96a3"; ctx.font = "14px sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
      ctx.fillText(hint, x + w / 2, y + h / 2);
    }
    return;
  }
  const [low, high] = range || pitchRange([sequence]);
  const stepW = w / sequence.steps, rowH = h / (high - low + 1);
  ctx.strokeStyle = "#2a323c";
  for (let bar = 16; bar < sequence.steps; bar += 16) {
    ctx.beginPath(); ctx.moveTo(x + bar * stepW, y); ctx.lineTo(x + bar * stepW, y + h); ctx.stroke();
  }
  sequence.parts.forEach((part, p) => {
    ctx.fillStyle = PART_COLOURS[part.drum ? 2 : p % 2];
    for (const [pitch, start, end] of part.notes) {
      const row = high - pitch;
      ctx.fillRect(x + start * stepW, y + row * rowH, Math.max(1, (end - start) * stepW - 1), Math.max(2, rowH));
    }
  });
  if (highlight) { ctx.strokeStyle = "#ffeb3b"; ctx.lineWidth = 2; ctx.strokeRect(x + 1, y + 1, w - 2, h - 2); ctx.lineWidth = 1; }
}

function drawOne(id, sequence, playHead = null) {
  const canvas = $(id), ctx = canvas.getContext("2d");
  drawRoll(ctx, sequence, 0, 0, canvas.width, canvas.height);
  if (playHead !== null && sequence) {
    const x = playHead / sequence.steps * canvas.width;
    ctx.fillStyle = "#ff5252"; ctx.fillRect(x, 0, 2, canvas.height);
  }
}

function drawStrip(id, sequences, current) {
  const canvas = $(id), ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const range = pitchRange(sequences), w = canvas.width / sequences.length;
  sequences.forEach((s, i) => drawRoll(ctx, s, i * w + 1, 0, w - 2, canvas.height, range, i === current));
}

// --- inputs ------------------------------------------------------------------------------------------------------

function setSlot(slot, sequence) {
  state.slots[slot] = sequence;
  drawOne(`roll-${slot}`, sequence);
  $(`label-${slot}`).textContent = sequence.label;
  $("interpolate").disabled = !(state.slots.a && state.slots.b);
  setCurrent(sequence);
}

async function upload(slot, file) {
  const select = $(`window-${slot}`);
  try {
    const found = await call(`/api/upload?name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    select.replaceChildren(...found.windows.map((w, i) => new Option(w.label, i)));
    select.windows = found.windows;
    select.parentElement.hidden = found.windows.length < 2; // one window: nothing to pick
    setSlot(slot, found.windows[0]);
  } catch (e) {
    $(`file-${slot}`).value = ""; // the message is on the page; the box must not name a file the slot does not hold
  }
}

async function testWindow(slot, index) {
  if (index === "") return;
  try { setSlot(slot, await call(`/api/test-windows/${index}`)); } catch (e) { /* shown */ }
}

// --- the current melody: a point of the path, an input or a sample, moved by the attribute sliders ---------------

function setCurrent(sequence, dataSequence = null) {
  state.base = sequence;
  state.dataShown = dataSequence;
  for (const name in state.amounts) { state.amounts[name] = 0; $(`attr-${name}`).value = 0; $(`amount-${name}`).textContent = "0"; }
  $("change").replaceChildren();
  show(sequence);
  drawOne("data-roll", dataSequence);
}

function show(sequence) {
  stop();
  state.shown = sequence;
  $("current-label").textContent = sequence ? `— ${sequence.label}` : "";
  $("play").disabled = $("download").disabled = !sequence;
  drawOne("roll", sequence);
}

async function interpolate() {
  const { a, b } = state.slots;
  const seed = Number($("path-seed").value);
  try {
    state.path = await post("/api/interpolate", { a, b, steps: Number($("steps").value), seed,
                                                  temperature: temperatureOf($("temperature").value),
                                                  qpm: a.qpm, programs: a.programs });
  } catch (e) { return; }
  const slider = $("t");
  slider.max = state.path.latent.length - 1;
  slider.value = 0;
  slider.disabled = false;
  moveAlongPath();
}

function moveAlongPath() {
  const k = Number($("t").value), path = state.path, playing = state.playing !== null;
  drawStrip("path", path.latent, k);
  drawStrip("data-path", path.data, k);
  setCurrent(path.latent[k], path.data[k]);
  if (playing) play(); // listening while moving: each point plays as the slider reaches it
  $("hamming").textContent = `t = ${path.t[k].toFixed(2)}: Hamming distance to A ${path.hamming.latent[k].toFixed(3)} ` +
    `along the slerp, ${path.hamming.data[k].toFixed(3)} along the data-space line`;
}

async function moveAttributes() {
  const base = state.base;
  if (!base || !base.z) return;
  const ticket = ++state.request; // only the newest answer is shown when sliders move faster than the model
  let moved;
  try {
    moved = await post("/api/attribute", { z: base.z, amounts: state.amounts, qpm: base.qpm, programs: base.programs });
  } catch (e) { return; }
  if (ticket !== state.request) return;
  moved.label = `${base.label}, attributes moved`;
  show(moved);
  $("change").replaceChildren(...Object.entries(moved.change).map(([name, delta]) => {
    const row = document.createElement("tr");
    row.innerHTML = `<td>${name}</td><td class="${delta > 0 ? "up" : delta < 0 ? "down" : ""}">` +
      `${delta >= 0 ? "+" : ""}${delta.toFixed(3)}</td><td>now ${moved.attributes[name].toFixed(3)}</td>`;
    return row;
  }));
}

async function sample() {
  try {
    setCurrent(await post("/api/sample", { temperature: temperatureOf($("sample-temperature").value),
                                           seed: Number($("seed").value) }));
  } catch (e) { /* shown */ }
}

const temperatureOf = (text) => (text.trim() === "greedy" ? "greedy" : Number(text));

async function play() {
  const sequence = state.shown;
  if (!sequence) return;
  stop();
  const ctx = synth.context();
  studio.audio = ctx;
  await ctx.resume();
  const out = ctx.createGain();
  out.gain.value = 0.8;
  out.connect(ctx.destination);
  const begin = ctx.currentTime + 0.05;
  const { secondsPerStep, scheduled } = synth.schedule(sequence, out, begin);
  studio.notesScheduled += scheduled;
  const playing = { out, sequence };
  state.playing = playing;
  const frame = () => {
    if (state.playing !== playing) return;
    const step = (ctx.currentTime - begin) / secondsPerStep;
    if (step >= sequence.steps) { stop(); return; }
    drawOne("roll", sequence, Math.max(0, step));
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}

function stop() {
  if (!state.playing) return;
  state.playing.out.disconnect(); // silences every note scheduled into it
  state.playing = null;
  drawOne("roll", state.shown);
}

// --- keeping a result ----------------------------------------------------------------------------------------------

async function download() {
  const s = state.shown;
  const name = `${s.label.replace(/[^\w.-]+/g, "_").slice(0, 60) || "musicvae"}.mid`;
  let response;
  try {
    response = await fetch("/api/midi", { method: "POST", headers: { "Content-Type": "application/json" },
                                          body: JSON.stringify({ tokens: s.tokens, qpm: s.qpm, programs: s.programs, name }) });
    if (!response.ok) throw new Error((await response.json()).error);
  } catch (e) { showError(e.message); return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
}

// --- the model's state, said plainly -------------------------------------------------------------------------------

function describeModel(m) {
  const c = m.config;
  const shape = `${c.hierarchical ? "hierarchical" : "flat"} decoder, z ${c.z_size}, encoder ${c.enc_rnn_size.join("×")}, ` +
    `decoder ${c.dec_rnn_size.join("×")}`;
  const steps = m.training_steps === null ? "training steps unknown" : `${m.training_steps} training steps`;
  $("model").textContent = `${m.representation} (${m.kind}): ${shape}; ${(m.parameters / 1e6).toFixed(2)} M ` +
    `parameters; ${steps}; learning monitor: ${m.verdict || "no record"}`;
  $("model").title = m.verdict_words;
  const warning = m.ignores_latent_code
    ? "This model ignores its latent code: every output is the same whatever the input, so interpolation and the " +
      "attribute sliders change nothing. " + m.verdict_words
    : m.verdict && m.verdict !== "learning" ? `This model has not learned (${m.verdict}): ${m.verdict_words}`
    : !m.verdict ? m.verdict_words : "";
  $("warning").hidden = !warning;
  $("warning").textContent = warning;
}

function attributeSliders(m) {
  $("attributes-missing").hidden = !m.attributes_missing;
  $("attributes-missing").textContent = m.attributes_missing ? `No attribute sliders: ${m.attributes_missing}` : "";
  $("sliders").replaceChildren(...m.attributes.map((name) => {
    state.amounts[name] = 0;
    const label = document.createElement("label");
    label.innerHTML = `<span>${name}</span><input type="range" id="attr-${name}" min="-3" max="3" step="0.25" ` +
      `value="0"><output id="amount-${name}">0</output>`;
    const slider = label.querySelector("input");
    slider.addEventListener("input", () => { $(`amount-${name}`).textContent = slider.value; });
    slider.addEventListener("change", () => { state.amounts[name] = Number(slider.value); moveAttributes(); });
    return label;
  }));
}

async function start() {
  const m = await call("/api/model");
  state.model = m;
  describeModel(m);
  attributeSliders(m);
  const tests = await call("/api/test-windows");
  for (const slot of ["a", "b"]) {
    const select = $(`test-${slot}`);
    select.replaceChildren(new Option(tests.labels.length ? "(choose)" : `none: ${tests.missing}`, ""),
                           ...tests.labels.map((label, i) => new Option(label, i)));
    select.addEventListener("change", () => testWindow(slot, select.value));
    $(`file-${slot}`).addEventListener("change", (e) => e.target.files[0] && upload(slot, e.target.files[0]));
    $(`window-${slot}`).addEventListener("change", (e) => setSlot(slot, e.target.windows[Number(e.target.value)]));
    $(`use-${slot}`).addEventListener("click", () => state.slots[slot] && setCurrent(state.slots[slot]));
  }
  $("interpolate").addEventListener("click", interpolate);
  $("t").addEventListener("input", moveAlongPath);
  $("draw").addEventListener("click", sample);
  $("play").addEventListener("click", play);
  $("stop").addEventListener("click", stop);
  $("download").addEventListener("click", download);
  for (const id of ["roll-a", "roll-b", "roll", "data-roll"]) drawOne(id, null);
  // the first view holds music: the first two test windows in A and B, ready to interpolate
  for (const [slot, index] of [["a", 0], ["b", 1]]) {
    if (index < tests.labels.length) { $(`test-${slot}`).value = String(index); await testWindow(slot, String(index)); }
  }
  document.body.dataset.ready = "true";
}

start().catch((e) => showError(`the studio could not start: ${e.message}`));
