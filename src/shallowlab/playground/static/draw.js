// Drawing: the pictures (output, units, features), the points, the weights and the curves.
// One routine paints every picture from a block of the frame; colours follow the page's scheme.

export const CLASS_COLOURS = [[232, 129, 20], [20, 110, 190], [40, 150, 60], [150, 90, 190],
  [200, 40, 60]];
let dark = matchMedia("(prefers-color-scheme: dark)").matches;
let lut = buildLut();

export function setDark(isDark) { dark = isDark; lut = buildLut(); }

function background() { return dark ? [30, 32, 36] : [250, 250, 250]; }

// 256 colours for t in [-1, 1]: orange for negative, the background at 0, blue for positive.
function buildLut() {
  const table = new Uint8ClampedArray(256 * 3);
  const bg = background();
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * 2 - 1;
    const c = t < 0 ? CLASS_COLOURS[0] : CLASS_COLOURS[1];
    const a = Math.abs(t);
    for (let k = 0; k < 3; k++) table[i * 3 + k] = bg[k] + (c[k] - bg[k]) * a;
  }
  return table;
}

export function signColour(value, alpha = 1) {
  const c = value < 0 ? CLASS_COLOURS[0] : CLASS_COLOURS[1];
  return `rgba(${c[0]},${c[1]},${c[2]},${alpha})`;
}

function imageOf(ctx, side) {
  const c = ctx.canvas;
  if (!c._image || c._image.width !== side) c._image = ctx.createImageData(side, side);
  return c._image;
}

function context(canvas) {
  if (!canvas._ctx) canvas._ctx = canvas.getContext("2d");
  return canvas._ctx;
}

// A side x side picture of values / scale, clamped to [-1, 1], on the diverging colours.
export function paintDiverging(canvas, data, offset, side, scale) {
  const ctx = context(canvas);
  const image = imageOf(ctx, side);
  const px = image.data;
  const inv = scale > 0 ? 1 / scale : 0;
  for (let i = 0, n = side * side; i < n; i++) {
    let t = data[offset + i] * inv;
    t = t > 1 ? 1 : t < -1 ? -1 : t === t ? t : 0;
    const j = ((t + 1) * 127.5) | 0;
    px[i * 4] = lut[j * 3]; px[i * 4 + 1] = lut[j * 3 + 1]; px[i * 4 + 2] = lut[j * 3 + 2];
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// The largest |value| of a block's slice, so each unit's picture uses its own full range.
export function maxAbs(data, offset, n) {
  let m = 0;
  for (let i = 0; i < n; i++) { const v = Math.abs(data[offset + i]); if (v > m) m = v; }
  return m;
}

// K class probabilities (K, side, side): the classes' colours mixed by probability, paler
// where the network is unsure, so the decision boundary shows as a pale band.
export function paintClasses(canvas, data, K, side) {
  const ctx = context(canvas);
  const image = imageOf(ctx, side);
  const px = image.data;
  const bg = background();
  const n = side * side;
  for (let i = 0; i < n; i++) {
    let r = 0, g = 0, b = 0, best = 0;
    for (let k = 0; k < K; k++) {
      const p = data[k * n + i];
      const c = CLASS_COLOURS[k];
      r += p * c[0]; g += p * c[1]; b += p * c[2];
      if (p > best) best = p;
    }
    const a = 0.12 + 0.5 * Math.max(0, (best - 1 / K) / (1 - 1 / K));  // points stand out
    px[i * 4] = bg[0] + (r - bg[0]) * a; px[i * 4 + 1] = bg[1] + (g - bg[1]) * a;
    px[i * 4 + 2] = bg[2] + (b - bg[2]) * a; px[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// One class's probability (side, side) from the background to its colour.
export function paintRamp(canvas, data, offset, side, colour) {
  const ctx = context(canvas);
  const image = imageOf(ctx, side);
  const px = image.data;
  const bg = background();
  for (let i = 0, n = side * side; i < n; i++) {
    const p = data[offset + i];
    for (let k = 0; k < 3; k++) px[i * 4 + k] = bg[k] + (colour[k] - bg[k]) * p;
    px[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

// The input features over the plane, as the network sees them: a side x side picture each.
export const FEATURE_FUNCTIONS = {
  x1: (x, y) => x, x2: (x, y) => y, x1sq: (x, y) => x * x, x2sq: (x, y) => y * y,
  x1x2: (x, y) => x * y, sinx1: (x, y) => Math.sin(x), sinx2: (x, y) => Math.sin(y),
};

export function paintFeature(canvas, name, extent, side) {
  const [x0, x1, y0, y1] = extent;
  const values = new Float32Array(side * side);
  const f = FEATURE_FUNCTIONS[name];
  for (let row = 0; row < side; row++) {
    const y = y1 + ((y0 - y1) * row) / (side - 1);
    for (let col = 0; col < side; col++) {
      values[row * side + col] = f(x0 + ((x1 - x0) * col) / (side - 1), y);
    }
  }
  paintDiverging(canvas, values, 0, side, maxAbs(values, 0, values.length));
}

// Each drawn canvas's box on screen, kept by an observer: reading clientWidth at every
// redraw would force the browser to lay the page out again each time.
const boxes = new ResizeObserver((entries) => {
  for (const e of entries) e.target._box = [e.contentRect.width, e.contentRect.height];
});

// Size a canvas's backing store to its box on screen, in device pixels; its 2-D context.
export function fitCanvas(canvas) {
  if (!canvas._box) {
    canvas._box = [canvas.clientWidth, canvas.clientHeight];
    boxes.observe(canvas);
  }
  const ratio = devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas._box[0] * ratio));
  const h = Math.max(1, Math.round(canvas._box[1] * ratio));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  return context(canvas);
}

// The training points (filled) and test points (ringed) over the output picture.
export function drawPoints(canvas, points, showTest) {
  const ctx = fitCanvas(canvas);
  const { width: W, height: H } = canvas;
  ctx.clearRect(0, 0, W, H);
  if (!points) return;
  const [x0, x1, y0, y1] = points.extent;
  const ratio = devicePixelRatio || 1;
  const scale = points.task === "regress" ? targetScale(points) : 1;
  const sets = showTest ? [["train", points.train], ["test", points.test]]
    : [["train", points.train]];
  for (const [kind, rows] of sets) {
    for (const [x, y, t] of rows) {
      const px = ((x - x0) / (x1 - x0)) * W, py = ((y1 - y) / (y1 - y0)) * H;
      ctx.beginPath();
      ctx.arc(px, py, 3.2 * ratio, 0, 2 * Math.PI);
      ctx.fillStyle = points.task === "regress" ? signColour(t, 0.25 + 0.75 * Math.min(1,
        Math.abs(t) / scale)) : `rgb(${CLASS_COLOURS[t].join(",")})`;
      ctx.fill();
      ctx.lineWidth = (kind === "test" ? 1.6 : 1) * ratio;  // as TF Playground: test ringed black
      ctx.strokeStyle = kind === "test" ? "#000" : "#fff";
      ctx.stroke();
    }
  }
}

export function targetScale(points) {
  let m = 1e-6;
  for (const rows of [points.train, points.test]) {
    for (const row of rows) m = Math.max(m, Math.abs(row[2]));
  }
  return m;
}

// The weights as lines: blue positive, orange negative, wider for larger |w|.
// wires: [{x1, y1, x2, y2, layer, out, in}] in the canvas's CSS pixels. Widths are rounded
// to quarter pixels and the lines stroked as one path per sign and width: thousands of
// weights cost a few dozen strokes.
export function drawWires(canvas, wires, frame, highlight) {
  const ctx = fitCanvas(canvas);
  const ratio = devicePixelRatio || 1;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!frame) return;
  const paths = new Map();
  for (const wire of wires) {
    const W = frame.blocks[`W.${wire.layer}`];
    if (!W) continue;
    const w = W.data[wire.out * W.shape[1] + wire.in];
    const width = Math.round(Math.min(8, Math.max(0.5, Math.abs(w) * 2.5)) * 4);
    const key = (w < 0 ? -1 : 1) * width;
    let path = paths.get(key);
    if (!path) { path = new Path2D(); paths.set(key, path); }
    path.moveTo(wire.x1 * ratio, wire.y1 * ratio);
    path.lineTo(wire.x2 * ratio, wire.y2 * ratio);
  }
  for (const [key, path] of paths) {
    const width = Math.abs(key) / 4;
    ctx.strokeStyle = signColour(key, 0.35 + 0.5 * Math.min(1, width / 2.5));
    ctx.lineWidth = width * ratio;
    ctx.stroke(path);
  }
  if (highlight && frame.blocks[`W.${highlight.layer}`]) {
    const W = frame.blocks[`W.${highlight.layer}`];
    const w = W.data[highlight.out * W.shape[1] + highlight.in];
    ctx.beginPath();
    ctx.moveTo(highlight.x1 * ratio, highlight.y1 * ratio);
    ctx.lineTo(highlight.x2 * ratio, highlight.y2 * ratio);
    ctx.strokeStyle = signColour(w, 1);
    ctx.lineWidth = (Math.min(8, Math.max(0.5, Math.abs(w) * 2.5)) + 2) * ratio;
    ctx.stroke();
  }
}

// Curves over steps: series [{values, colour, dash}] against steps, from 0 to the largest.
export function drawCurves(canvas, steps, series, fixedMax) {
  const ctx = fitCanvas(canvas);
  const { width: W, height: H } = canvas;
  const ratio = devicePixelRatio || 1;
  ctx.clearRect(0, 0, W, H);
  ctx.strokeStyle = "#9aa0a6";
  ctx.lineWidth = ratio;
  ctx.strokeRect(0.5, 0.5, W - 1, H - 1);
  const n = steps.length;
  if (n < 2) return;
  let top = fixedMax || 0;
  if (!fixedMax) {
    for (const s of series) for (const v of s.values) if (v > top && isFinite(v)) top = v;
  }
  if (!(top > 0)) return;
  const first = steps[0], span = Math.max(1, steps[n - 1] - first);
  const every = Math.max(1, Math.floor(n / W));
  for (const s of series) {
    ctx.beginPath();
    ctx.setLineDash(s.dash ? [4 * ratio, 3 * ratio] : []);
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 1.5 * ratio;
    for (let i = 0; i < n; i += every) {
      const v = s.values[i];
      if (v === null || !isFinite(v)) continue;
      const x = ((steps[i] - first) / span) * (W - 2) + 1;
      const y = H - 1 - (Math.min(v, top) / top) * (H - 4);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  ctx.fillStyle = dark ? "#e8e8ea" : "#1b1b1f";
  ctx.font = `${11 * ratio}px sans-serif`;
  ctx.fillText(top.toPrecision(3), 4 * ratio, 12 * ratio);
}
