// The form's controls: settings -> inputs (fill) and one changed input -> settings (read).
// Each control's id is its setting's name; the server checks every value again.

const KINDS = {
  data: "choice", classes: "int", noise: "float", points: "int", train_percent: "int",
  batch: "int", seed: "int", loss: "choice", optimizer: "choice", lr: "float",
  reg: "choice", reg_rate: "float", init: "choice", track: "choice",
  stop_loss: "float?", stop_acc: "float?", stop_steps: "int?",
};
export const FIELDS = Object.keys(KINDS);
const REGRESS = ["plane", "gaussians"];

function labelOf(el) {
  return el.labels && el.labels.length ? el.labels[0].textContent.trim() : el.id;
}

export function fillControls(settings, task, hasCsv) {
  for (const name of FIELDS) {
    const el = document.getElementById(name);
    const value = settings[name];
    el.value = value === null || value === undefined ? "" : String(value);
    const shown = document.getElementById(`${name}-value`);
    if (shown) shown.value = name === "noise" ? Number(value).toFixed(2) : `${value}%`;
  }
  const data = settings.data;
  document.querySelector('#data option[value="upload"]').disabled = !hasCsv;
  document.getElementById("classes").disabled = data === "xor" || REGRESS.includes(data)
    || data === "upload";
  for (const id of ["noise", "points"]) {
    document.getElementById(id).disabled = data === "upload";
  }
  document.querySelector('#loss option[value="cross_entropy"]').disabled = task === "regress";
  for (const v of ["momentum", "adam"]) {
    document.querySelector(`#optimizer option[value="${v}"]`).disabled =
      settings.track === "scratch";
  }
  document.getElementById("reg_rate").disabled = settings.reg === "none";
}

// The value of the control `el` for its setting, or an Error naming the control.
export function readControl(el) {
  const kind = KINDS[el.id];
  const text = el.value.trim();
  if (kind === "choice") return text;
  if (kind.endsWith("?") && text === "") return null;
  const value = Number(text);
  if (text === "" || !Number.isFinite(value)) {
    throw new Error(`${labelOf(el)}: ${JSON.stringify(text.slice(0, 20))} is not a number`);
  }
  if (kind.startsWith("int") && !Number.isInteger(value)) {
    throw new Error(`${labelOf(el)}: give a whole number`);
  }
  return value;
}

// The settings after `name` became `value`, with the settings that must follow it.
export function changed(settings, name, value) {
  const next = { ...settings, [name]: value };
  if (name === "data") {
    if (REGRESS.includes(value)) next.loss = "mse";
    else if (REGRESS.includes(settings.data)) next.loss = "cross_entropy";
  }
  if (name === "track" && value === "scratch") next.optimizer = "sgd";
  if (name === "reg" && value !== "none" && !(settings.reg_rate > 0)) next.reg_rate = 0.001;
  return next;
}

export function isControl(el) { return el && FIELDS.includes(el.id); }
