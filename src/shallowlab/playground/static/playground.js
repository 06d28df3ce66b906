// The playground's page: one WebSocket to the server, which trains; this page draws.
// Messages: see docs/playground.md. Frames are drawn at the next animation frame and then
// acknowledged, so the server trains only as fast as this page can show it.

import { changed, fillControls, isControl, readControl } from "./controls.js";
import { drawCurves, drawPoints, paintClasses, paintDiverging, setDark,
  targetScale } from "./draw.js";
import { setupExport, showScript } from "./dialog.js";
import { decode, record } from "./frame.js";
import { packCsv, readCsv, splitFragment, unpackCsv } from "./link.js";
import { FEATURES, Network, fmt } from "./network.js";
import { Pace } from "./pace.js";

const $ = (id) => document.getElementById(id);
const state = { socket: null, settings: null, pending: null, points: null, presets: [],
  playing: false, frame: null, waiting: null, csvText: null, csvPacked: null, sent: null,
  ownHash: null, fellBack: false };
const history = { steps: [], trainLoss: [], testLoss: [], trainAcc: [], testAcc: [] };
const pace = new Pace();
const stats = window.playgroundStats = { connected: false, frame: 0, step: 0, epoch: 0,
  trainLoss: null, testLoss: null, trainAcc: null, testAcc: null, playing: false,
  stopped: null, redrawsPerSecond: 0, epochsPerRedraw: 0, redraws: 0, drawMs: 0,
  sincePlay: { redraws: 0, epochs: 0, ms: 0 }, ready: 0, settled: false, pictures: 0,
  errors: 0, asked: 0 };
window.playgroundHistory = history;

const network = new Network($("net"), $("wires"), $("info"), {
  toggleFeature(name) {
    const base = current();
    const on = base.features.includes(name);
    const features = FEATURES.filter((f) => (f === name ? !on : base.features.includes(f)));
    if (!features.length) return alert("keep at least one input feature on");
    configure({ ...base, features });
  },
  setLayer(l, key, value) {
    const layers = current().layers.map((x) => ({ ...x }));
    layers[l - 1][key] = key === "activation" ? value : Number(value);
    configure({ ...current(), layers });
  },
});

function current() { return state.pending || state.settings; }

function alert(message) {
  $("alert").textContent = String(message).replace(/\s+/g, " ").trim();
  stats.errors += 1;
}

function send(message) {
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(message));
  }
}

// A configure or upload: answered by ready or error. While several are out, the page keeps
// the newest settings it asked for (pending), so a quick second change builds on the first.
function ask(message) {
  stats.asked += 1;
  send(message);
}

function configure(settings) {
  state.pending = settings;
  ask({ type: "configure", settings });
}

// --- the connection --------------------------------------------------------------------

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.binaryType = "arraybuffer";
  state.socket = socket;
  socket.onopen = () => { stats.connected = true; $("reconnect").hidden = true; fromHash(); };
  socket.onmessage = (event) => (typeof event.data === "string"
    ? onMessage(JSON.parse(event.data)) : onFrame(event.data));
  socket.onclose = () => {
    stats.connected = false;
    setPlaying(false);
    $("status").textContent = "Not connected to the server.";
    $("reconnect").hidden = false;
  };
}

async function fromHash() {
  const { query, csv } = splitFragment(location.hash);
  if (!csv) return ask({ type: "configure", query });
  try {
    state.sent = await unpackCsv(csv);
    ask({ type: "upload", name: "the link's CSV", csv: state.sent, query });
  } catch (e) {
    alert(e.message);
    ask({ type: "configure", query: "" });
  }
}

function onMessage(message) {
  if (message.type === "ready") return onReady(message);
  if (message.type === "error") {
    alert(message.message);
    state.sent = null;
    stats.asked = Math.max(0, stats.asked - 1);
    if (state.pending && !stats.asked) { state.pending = null; refill(); }
    if (!state.settings && !state.fellBack) {
      state.fellBack = true;
      ask({ type: "configure", query: "" });
    }
  } else if (message.type === "stopped") {
    setPlaying(false);
    $("status").textContent = `Stopped: ${message.reason}.`;
  } else if (message.type === "closing") {
    alert(`The server closed this session: ${message.reason}`);
  } else if (message.type === "export") {
    showScript(message);
  }
}

async function onReady(message) {
  stats.settled = false;
  stats.asked = Math.max(0, stats.asked - 1);
  Object.assign(state, { settings: message.settings, points: message.points,
    presets: message.presets, frame: null, waiting: null });  // an old network's frame: drop
  if (!stats.asked) state.pending = null;
  if (message.settings.data === "upload" && state.sent !== null) {
    state.csvText = state.sent;
    state.csvPacked = null;
  }
  state.sent = null;
  for (const key of Object.keys(history)) history[key] = [];
  $("alert").textContent = "";
  $("status").textContent = "";
  setPlaying(false);
  refill();
  drawPoints($("dots"), state.points, $("show-test").checked);
  showPresets();
  let hash = message.query;
  if (message.settings.data === "upload" && state.csvText !== null) {
    state.csvPacked = state.csvPacked || await packCsv(state.csvText);
    hash += `${hash ? "&" : ""}csv=${state.csvPacked}`;
  }
  state.ownHash = `#${hash}`;
  if (location.hash !== state.ownHash && !(hash === "" && location.hash === "")) {
    window.history.replaceState(null, "", state.ownHash);
  }
  stats.ready += 1;
}

function refill() {
  const s = current();
  fillControls(s, state.points.task, state.csvText !== null);
  $("layer-count").value = s.layers.length;
  $("add-layer").disabled = s.layers.length >= 6;
  $("remove-layer").disabled = s.layers.length === 0;
  network.build(s, state.points);
  if (state.frame) network.draw(state.frame);
}

// --- frames ----------------------------------------------------------------------------

function onFrame(buffer) {
  const frame = decode(buffer);
  record(history, frame.header);
  state.waiting = frame;
  requestAnimationFrame(drawWaiting);
}


function drawWaiting(now) {
  const frame = state.waiting;
  if (!frame || !state.settings) return;
  state.waiting = null;
  const started = performance.now();
  draw(frame);
  if (frame.header.playing) send({ type: "ack", frame: frame.header.frame });
  measure(now, frame.header, performance.now() - started);
}

function draw(frame) {
  state.frame = frame;
  const h = frame.header, out = frame.blocks.output;
  const map = $("map");
  if (map.width !== h.grid) { map.width = h.grid; map.height = h.grid; }
  if (state.points.task === "regress") {
    paintDiverging(map, out.data, 0, h.grid, targetScale(state.points));
  } else {
    paintClasses(map, out.data, out.shape[0], h.grid);
  }
  stats.pictures = 1 + network.draw(frame);
  stats.settled = true;
  $("step-count").value = h.step;
  $("epoch-count").value = h.epoch;
  $("train-loss").value = fmt(h.train_loss);
  $("test-loss").value = fmt(h.test_loss);
  $("train-acc").value = h.train_acc === null ? "-" : h.train_acc.toFixed(3);
  $("test-acc").value = h.test_acc === null ? "-" : h.test_acc.toFixed(3);
  drawCurves($("loss-curve"), history.steps, [
    { values: history.trainLoss, colour: "#888" },
    { values: history.testLoss, colour: "#1f77b4", dash: true }]);
  const acc = $("acc-curve");
  acc.hidden = h.test_acc === null;
  if (!acc.hidden) {
    drawCurves(acc, history.steps, [{ values: history.trainAcc, colour: "#888" },
      { values: history.testAcc, colour: "#1f77b4", dash: true }], 1);
  }
  if (h.stopped) {  // the frame says so before the "stopped" message that follows it
    if (state.playing) setPlaying(false);
    $("status").textContent = `Stopped: ${h.stopped}.`;
  }
  Object.assign(stats, { frame: h.frame, step: h.step, epoch: h.epoch,
    trainLoss: h.train_loss, testLoss: h.test_loss, trainAcc: h.train_acc,
    testAcc: h.test_acc, stopped: h.stopped });
  window.playgroundFrame = frame;
}

// The page's own pace, measured at each redraw while playing (see pace.js).
function measure(now, header, ms) {
  stats.drawMs = ms;
  if (!header.playing || !state.playing) return;
  pace.record(now, header.epoch, stats);
  $("fps").value = stats.redrawsPerSecond.toFixed(0);
  $("epochs-per-redraw").value = stats.epochsPerRedraw.toFixed(1);
}

// --- the controls ----------------------------------------------------------------------

function setPlaying(on) {
  state.playing = stats.playing = on;
  $("play").textContent = on ? "Pause" : "Play";
  pace.reset();
}

$("play").addEventListener("click", () => {
  if (state.playing) {
    setPlaying(false);
    send({ type: "pause" });
  } else {
    setPlaying(true);
    $("status").textContent = "";
    send({ type: "play", speed: Number($("speed").value) });
  }
});
for (const kind of ["step", "back", "reset"]) {
  $(kind).addEventListener("click", () => {
    setPlaying(false);
    if (kind !== "back") $("status").textContent = "";
    send({ type: kind });
  });
}
$("speed").addEventListener("change", () => {
  if (state.playing) send({ type: "play", speed: Number($("speed").value) });
});
$("reconnect").addEventListener("click", connect);
$("new-seed").addEventListener("click", () => configure(changed(current(), "seed",
  Math.floor(Math.random() * 2 ** 31))));
$("add-layer").addEventListener("click", () => {
  const layers = current().layers;
  const last = layers.length ? layers[layers.length - 1] : { width: 4, activation: "tanh" };
  configure({ ...current(), layers: [...layers, { width: last.width,
    activation: last.activation, dropout: 0 }] });
});
$("remove-layer").addEventListener("click", () => configure({ ...current(),
  layers: current().layers.slice(0, -1) }));

for (const panel of ["data-panel", "training-panel"]) {
  $(panel).addEventListener("change", (event) => {
    if (!isControl(event.target) || !state.settings) return;
    try {
      configure(changed(current(), event.target.id, readControl(event.target)));
    } catch (e) {
      alert(e.message);
      refill();
    }
  });
}
$("noise").addEventListener("input", () => { $("noise-value").value =
  Number($("noise").value).toFixed(2); });
$("train_percent").addEventListener("input", () => { $("train_percent-value").value =
  `${$("train_percent").value}%`; });

$("csv").addEventListener("change", async () => {
  const input = $("csv"), file = input.files[0];
  if (!file) return;
  try {
    const text = await readCsv(file);
    state.sent = text;
    ask({ type: "upload", name: file.name, csv: text });
  } catch (e) {
    alert(e.message);
  } finally {
    input.value = "";
  }
});

$("show-test").addEventListener("change", () => drawPoints($("dots"), state.points,
  $("show-test").checked));

function showPresets() {
  const list = $("presets");
  list.replaceChildren(...state.presets.map((p) => {
    const link = document.createElement("a");
    link.href = `#${p.query}`;
    link.textContent = p.title;
    const why = document.createElement("span");
    why.textContent = ` \u2014 ${p.why}`;
    const item = document.createElement("li");
    item.append(link, why);
    return item;
  }));
}

window.addEventListener("hashchange", () => {
  if (location.hash !== state.ownHash) { state.csvText = null; state.csvPacked = null; fromHash(); }
});
window.addEventListener("resize", () => drawPoints($("dots"), state.points,
  $("show-test").checked));
matchMedia("(prefers-color-scheme: dark)").addEventListener("change", (e) => {
  setDark(e.matches);
  if (state.points) refill();
  drawPoints($("dots"), state.points, $("show-test").checked);
});

setupExport(send);

// A page on screen keeps its session: it says it is still there every 20 s. The server frees a
// session after --idle-timeout s without a message, so a hidden tab or a closed laptop lets go.
setInterval(() => {
  if (document.visibilityState === "visible" && state.frame) {
    send({ type: "ack", frame: state.frame.header.frame });
  }
}, 20000);

connect();
