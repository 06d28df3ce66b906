// The page's state in its URL fragment, and the checks of a CSV before it is sent.
// The fragment is the server's Settings.to_query(), plus for an uploaded CSV "&csv=" and the
// file's text compressed (deflate-raw, CompressionStream) and written in base64url.

export const MAX_CSV = 512 * 1024;

export function splitFragment(hash) {
  const parts = hash.replace(/^#/, "").split("&").filter((p) => p);
  const csv = parts.find((p) => p.startsWith("csv="));
  return { query: parts.filter((p) => !p.startsWith("csv=")).join("&"),
    csv: csv ? csv.slice(4) : null };
}

function toBase64Url(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(plain.length);
  for (let i = 0; i < plain.length; i++) bytes[i] = plain.charCodeAt(i);
  return bytes;
}

async function through(bytes, stream) {
  const piped = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(piped).arrayBuffer());
}

export async function packCsv(text) {
  const bytes = new TextEncoder().encode(text);
  return toBase64Url(await through(bytes, new CompressionStream("deflate-raw")));
}

export async function unpackCsv(packed) {
  try {
    const bytes = await through(fromBase64Url(packed), new DecompressionStream("deflate-raw"));
    if (bytes.length > MAX_CSV) throw new Error("too large");
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new Error("the CSV in this link is damaged; upload the file again");
  }
}

function sizeText(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.ceil(bytes / 1024)} KiB`;
}

// A chosen file's text, or an Error saying in one line why it cannot be sent.
export async function readCsv(file) {
  const name = file.name.length > 60 ? file.name.slice(0, 57) + "..." : file.name;
  if (file.size > MAX_CSV) {
    throw new Error(`${name} is ${sizeText(file.size)}; the playground takes a CSV of ` +
      "512 KiB at most (about 5000 rows): keep fewer rows");
  }
  if (file.size === 0) throw new Error(`${name} is empty; give rows x1,x2,label`);
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text;
  try {
    if (bytes.includes(0)) throw new Error("NUL");
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (e) {
    throw new Error(`${name} holds binary bytes, not text; save it as CSV ` +
      "(x1,x2,label or x1,x2,target)");
  }
  return text;
}
