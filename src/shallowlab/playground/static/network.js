// The network as the page shows it: a column of input features, one per hidden layer (its
// controls, then a picture per unit), the output units; the weights drawn between them.
// Each unit is a button: hovering or focusing it shows its bias, its incoming weights and
// their gradients in #info; hovering a weight's line shows that weight.

import { CLASS_COLOURS, drawWires, maxAbs, paintDiverging, paintFeature, paintRamp,
  targetScale } from "./draw.js";

export const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];
export const FEATURE_LABELS = { x1: "x\u2081", x2: "x\u2082", x1sq: "x\u2081\u00b2",
  x2sq: "x\u2082\u00b2", x1x2: "x\u2081x\u2082", sinx1: "sin x\u2081", sinx2: "sin x\u2082" };
const ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export function fmt(v) {
  if (v === null || v === undefined || !isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(2) : v.toFixed(a < 1 ? 4 : 3);
}

export class Network {
  constructor(root, wires, info, actions) {
    Object.assign(this, { root, wires, info, actions });
    this.columns = []; this.geometry = []; this.frame = null; this.focus = null;
    root.addEventListener("pointermove", (e) => this.hover(e));
    root.addEventListener("pointerleave", () => this.show(null));
    new ResizeObserver(() => this.layout()).observe(root);
  }

  build(settings, points) {
    this.settings = settings;
    this.points = points;
    this.outputs = points.task === "regress" ? 1 : points.classes;
    this.r = settings.layers.reduce((s, l) => s + l.width, 0) <= 64 ? 24 : 12;
    const widest = Math.max(this.outputs, 7, ...settings.layers.map((l) => l.width));
    this.root.dataset.size = widest <= 8 ? "large" : widest <= 16 ? "medium" : "small";
    for (const c of this.root.querySelectorAll(".column")) c.remove();
    this.columns = [this.featureColumn(settings, points.extent)];
    settings.layers.forEach((layer, i) => this.columns.push(this.hiddenColumn(layer, i + 1)));
    this.columns.push(this.outputColumn());
    this.focus = null;
    this.layout();
  }

  featureColumn(settings, extent) {
    const column = el("div", { class: "column" }, el("h3", { text: "Features" }));
    const units = [];
    for (const name of FEATURES) {
      const on = settings.features.includes(name);
      const canvas = el("canvas", { width: this.r, height: this.r });
      const button = el("button", { type: "button", class: "unit feature",
        "aria-pressed": String(on), "aria-label": `Feature ${FEATURE_LABELS[name]}`,
        title: `Use ${FEATURE_LABELS[name]} as an input (on or off)` }, canvas,
      el("span", { class: "name", text: FEATURE_LABELS[name] }));
      paintFeature(canvas, name, extent, this.r);
      button.addEventListener("click", () => this.actions.toggleFeature(name));
      this.watch(button, { column: 0, index: settings.features.indexOf(name), name });
      column.append(button);
      if (on) units.push(button);
    }
    this.root.append(column);
    return units;
  }

  hiddenColumn(layer, l) {
    const width = el("input", { type: "number", min: 1, max: 64, step: 1, value: layer.width,
      "aria-label": `Layer ${l} units` });
    width.addEventListener("change", () => this.actions.setLayer(l, "width", width.value));
    const less = el("button", { type: "button", "aria-label": `Remove a unit from layer ${l}`,
      text: "\u2212" });
    const more = el("button", { type: "button", "aria-label": `Add a unit to layer ${l}`,
      text: "+" });
    less.disabled = layer.width <= 1; more.disabled = layer.width >= 64;
    less.addEventListener("click", () => this.actions.setLayer(l, "width", layer.width - 1));
    more.addEventListener("click", () => this.actions.setLayer(l, "width", layer.width + 1));
    const act = el("select", { "aria-label": `Layer ${l} activation` },
      ...ACTIVATIONS.map((a) => el("option", { value: a, text: a })));
    act.value = layer.activation;
    act.addEventListener("change", () => this.actions.setLayer(l, "activation", act.value));
    const drop = el("input", { type: "number", min: 0, max: 0.9, step: 0.1,
      value: layer.dropout, "aria-label": `Layer ${l} dropout` });
    drop.addEventListener("change", () => this.actions.setLayer(l, "dropout", drop.value));
    const head = el("div", { class: "layer-head" }, el("h3", { text: `Layer ${l}` }),
      el("div", { class: "width" }, less, width, more), act,
      el("label", { class: "dropout" }, "dropout ", drop));
    const column = el("div", { class: "column" }, head);
    const units = [];
    for (let j = 0; j < layer.width; j++) {
      const button = el("button", { type: "button", class: "unit",
        "aria-label": `Layer ${l}, unit ${j + 1}`, "aria-describedby": "info" },
      el("canvas", { width: this.r, height: this.r }));
      this.watch(button, { column: l, index: j });
      column.append(button);
      units.push(button);
    }
    this.root.append(column);
    return units;
  }

  outputColumn() {
    const column = el("div", { class: "column" }, el("h3", { text: "Output" }));
    const units = [];
    for (let k = 0; k < this.outputs; k++) {
      const name = this.outputs > 1 ? `Output, class ${k}` : "Output";
      const button = el("button", { type: "button", class: "unit output",
        "aria-label": name, "aria-describedby": "info" }, el("canvas", { width: 64,
        height: 64 }));
      this.watch(button, { column: this.settings.layers.length + 1, index: k });
      column.append(button);
      units.push(button);
    }
    this.root.append(column);
    return units;
  }

  watch(button, where) {
    button._where = where;
    for (const kind of ["pointerenter", "focus"]) {
      button.addEventListener(kind, () => this.show({ unit: where }));
    }
    button.addEventListener("blur", () => this.show(null));
  }

  // Where each weight's line runs, in the network's own pixels; called when the layout moves.
  layout() {
    const box = this.root.getBoundingClientRect();
    const at = (b) => { const r = b.getBoundingClientRect();
      return { l: r.left - box.left, r: r.right - box.left, y: (r.top + r.bottom) / 2 - box.top };
    };
    this.geometry = [];
    for (let c = 0; c + 1 < this.columns.length; c++) {
      const ins = this.columns[c].map(at), outs = this.columns[c + 1].map(at);
      outs.forEach((o, j) => ins.forEach((i, k) => this.geometry.push({ x1: i.r, y1: i.y,
        x2: o.l, y2: o.y, layer: c + 1, out: j, in: k })));
    }
    const [w, h] = [this.root.scrollWidth, this.root.scrollHeight];
    this.wires.style.width = `${w}px`;
    this.wires.style.height = `${h}px`;
    this.wires._box = [w, h];
    drawWires(this.wires, this.geometry, this.frame, this.focus && this.focus.wire);
  }

  draw(frame) {
    this.frame = frame;
    const L = this.settings.layers.length;
    for (let l = 1; l <= L; l++) {
      const block = frame.blocks[`units.${l}`];
      const r = block.shape[1], n = r * r;
      this.columns[l].forEach((button, j) => {
        const canvas = button.firstChild;
        if (canvas.width !== r) { canvas.width = r; canvas.height = r; }
        paintDiverging(canvas, block.data, j * n, r, maxAbs(block.data, j * n, n));
      });
    }
    const out = frame.blocks.output, R = out.shape[1];
    const scale = this.outputs === 1 ? targetScale(this.points) : 1;
    this.columns[L + 1].forEach((button, k) => {
      if (this.outputs > 1) paintRamp(button.firstChild, out.data, k * R * R, R, CLASS_COLOURS[k]);
      else paintDiverging(button.firstChild, out.data, 0, R, scale);
    });
    drawWires(this.wires, this.geometry, frame, this.focus && this.focus.wire);
    if (this.focus) this.show(this.focus);
    return this.columns.slice(1).reduce((n, units) => n + units.length, 0);  // pictures
  }

  hover(event) {
    if (event.target.closest(".unit, .layer-head")) return;
    const box = this.root.getBoundingClientRect();
    const x = event.clientX - box.left, y = event.clientY - box.top;
    let best = null, bestD = 5;
    for (const w of this.geometry) {
      const dx = w.x2 - w.x1, dy = w.y2 - w.y1;
      const t = Math.max(0, Math.min(1, ((x - w.x1) * dx + (y - w.y1) * dy) / (dx * dx + dy * dy)));
      const d = Math.hypot(w.x1 + t * dx - x, w.y1 + t * dy - y);
      if (d < bestD) { bestD = d; best = w; }
    }
    if (best !== (this.focus && this.focus.wire)) this.show(best ? { wire: best } : null);
  }

  unitName(column, index) {
    if (column === 0) return FEATURE_LABELS[this.settings.features[index]];
    if (column > this.settings.layers.length) {
      return this.outputs > 1 ? `output (class ${index})` : "output";
    }
    return `layer ${column} unit ${index + 1}`;
  }

  // #info for a unit or a weight (null: the hint), with the current frame's values.
  show(focus) {
    const hadWire = this.focus && this.focus.wire;
    this.focus = focus;
    if (hadWire || (focus && focus.wire)) {
      drawWires(this.wires, this.geometry, this.frame, focus && focus.wire);
    }
    this.info.textContent = this.describe(focus);
  }

  describe(focus) {
    const f = this.frame;
    if (!focus) return "Hover over or focus a unit or a weight to see its value and gradient.";
    if (focus.wire) {
      const w = focus.wire, W = f && f.blocks[`W.${w.layer}`], G = f && f.blocks[`gW.${w.layer}`];
      const i = w.out * (W ? W.shape[1] : 0) + w.in;
      return `Weight from ${this.unitName(w.layer - 1, w.in)} to ${this.unitName(w.layer,
        w.out)}: ${W ? fmt(W.data[i]) : "-"} (gradient ${G ? fmt(G.data[i]) : "-"})`;
    }
    const { column, index, name } = focus.unit;
    if (column === 0) {
      return `Feature ${FEATURE_LABELS[name]}: ${index >= 0 ? "an input of the network"
        : "not used; press it to use it"} (its picture: its value over the plane)`;
    }
    if (!f) return this.unitName(column, index);
    const W = f.blocks[`W.${column}`], G = f.blocks[`gW.${column}`];
    const b = f.blocks[`b.${column}`].data[index], gb = f.blocks[`gb.${column}`].data[index];
    const n = W.shape[1];
    const order = [...Array(n).keys()].sort((p, q) => Math.abs(W.data[index * n + q])
      - Math.abs(W.data[index * n + p])).slice(0, 8);
    const weights = order.map((k) => `from ${this.unitName(column - 1, k)} ` +
      `${fmt(W.data[index * n + k])} (gradient ${fmt(G.data[index * n + k])})`);
    return `${this.unitName(column, index)}: bias ${fmt(b)} (gradient ${fmt(gb)}); ` +
      `weights in${n > 8 ? ", the 8 largest" : ""}: ${weights.join("; ")}`;
  }
}
