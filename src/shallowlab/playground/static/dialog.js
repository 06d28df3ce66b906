// The Export dialog: the run as a script, plain PyTorch or shallowlab, to copy or download.

const $ = (id) => document.getElementById(id);

function flavour() { return document.querySelector('input[name="flavour"]:checked').value; }

export function setupExport(send) {
  $("export").addEventListener("click", () => {
    $("script").value = "";
    $("copied").value = "";
    $("export-dialog").showModal();
    send({ type: "export", flavour: flavour() });
  });
  for (const radio of document.querySelectorAll('input[name="flavour"]')) {
    radio.addEventListener("change", () => send({ type: "export", flavour: flavour() }));
  }
  $("close-export").addEventListener("click", () => $("export-dialog").close());
  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText($("script").value);
      $("copied").value = "Copied.";
    } catch (e) {
      $("script").select();
      $("copied").value = "Selected: press Ctrl+C (or Cmd+C) to copy.";
    }
  });
}

// The server's answer: the script in the dialog, and a file to download.
export function showScript(message) {
  $("script").value = message.script;
  const link = $("download");
  if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
  link.href = URL.createObjectURL(new Blob([message.script], { type: "text/x-python" }));
  link.hidden = false;
}
