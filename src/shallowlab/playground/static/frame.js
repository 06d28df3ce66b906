// A frame from the server (docs/playground.md): a uint32 header length, the JSON header
// padded to 4 bytes, then float32 blocks, each read as a view of the message, not copied.

export function decode(buffer) {
  const size = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, size)));
  const blocks = {};
  let at = 4 + size;
  for (const b of header.blocks) {
    const n = b.shape.reduce((p, d) => p * d, 1);
    blocks[b.name] = { shape: b.shape, data: new Float32Array(buffer, at, n) };
    at += 4 * n;
  }
  return { header, blocks };
}

// A frame's losses and accuracies into the curves' history; a step at or before the last one
// kept (after Reset or Step back) cuts the history back to before it.
export function record(history, h) {
  let n = history.steps.length;
  while (n && history.steps[n - 1] >= h.step) n--;
  for (const key of Object.keys(history)) history[key].length = n;
  history.steps.push(h.step); history.trainLoss.push(h.train_loss);
  history.testLoss.push(h.test_loss); history.trainAcc.push(h.train_acc);
  history.testAcc.push(h.test_acc);
}
