"""The two sides of ``benchmarks.playground_pace``: each playground served on loopback, opened
in headless Chromium with the same network and data, Play pressed, its pace measured in the page.

A side's numbers, over ``seconds`` after a 1 s warm-up:

* ``frames_per_s``: ``requestAnimationFrame`` callbacks a second, counted by a script injected
  before the page's own (the frames the browser could draw);
* ``idle_frames_per_s``: the same over 1 s before Play: the browser's ceiling at rest;
* ``redraws_per_s``: the page's redraws a second. TensorFlow Playground redraws once per
  ``oneStep`` (one epoch), so its redraws are its iteration counter's steps; ours counts them in
  ``window.playgroundStats.redraws``, and the epochs in its ``epoch`` (the frame last drawn);
* ``epochs_per_redraw`` and ``epochs_per_s``: epochs trained between redraws, and a second.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 800}
WARMUP = 1.0
# The shared network and data: TF Playground generates 500 classification points; 50 % train.
TF_STATE = {"activation": "tanh", "batchSize": "10", "dataset": "circle",
            "regDataset": "reg-plane", "learningRate": "0.03", "regularizationRate": "0",
            "noise": "0", "networkShape": "8,8,8", "seed": "0.12345", "showTestData": "false",
            "discretize": "false", "percTrainData": "50", "x": "true", "y": "true",
            "xTimesY": "false", "xSquared": "false", "ySquared": "false", "cosX": "false",
            "sinX": "false", "cosY": "false", "sinY": "false", "collectStats": "false",
            "problem": "classification", "initZero": "false", "hideText": "true"}
OURS = {"data": "circle", "points": "500", "train_percent": "50", "batch": "10",
        "layers": "8tanh,8tanh,8tanh", "lr": "0.03", "seed": "0"}

FRAMES = """window.__pace = {frames: 0};
(function tick() { window.__pace.frames++; requestAnimationFrame(tick); })();"""
# Frames and TF Playground's iteration counter now, after `seconds`, and the time between.
TF_SAMPLE = """async (seconds) => {
  const iter = () => +document.querySelector('#iter-number').textContent.replace(/,/g, '');
  const a = [performance.now(), window.__pace.frames, iter()];
  await new Promise(r => setTimeout(r, seconds * 1000));
  const b = [performance.now(), window.__pace.frames, iter()];
  return {seconds: (b[0] - a[0]) / 1000, frames: b[1] - a[1], epochs: b[2] - a[2]};
}"""
# Animation frames a second before Play: the browser's own ceiling with the page at rest.
IDLE_SAMPLE = """async (seconds) => {
  const a = [performance.now(), window.__pace.frames];
  await new Promise(r => setTimeout(r, seconds * 1000));
  return (window.__pace.frames - a[1]) / ((performance.now() - a[0]) / 1000);
}"""
# What TF Playground's controls show once it has read the hash: the settings it took.
TF_SHOWN = """() => ({layers: document.querySelector('#num-layers').textContent,
  train: document.querySelector('#percTrainData').value,
  batch: document.querySelector('#batchSize').value,
  activation: document.querySelector('#activations').value,
  data: document.querySelector('canvas.selected[data-dataset]').dataset.dataset})"""
TF_EXPECTED = {"layers": "3", "train": "50", "batch": "10", "activation": "tanh",
               "data": "circle"}
READY = "() => !!(window.playgroundStats && window.playgroundStats.ready > 0 && " \
    "window.playgroundStats.frame > 0)"
OURS_SAMPLE = """async (seconds) => {
  const st = () => [performance.now(), window.__pace.frames, window.playgroundStats.redraws,
                    window.playgroundStats.epoch];
  const a = st();
  await new Promise(r => setTimeout(r, seconds * 1000));
  const b = st();
  return {seconds: (b[0] - a[0]) / 1000, frames: b[1] - a[1], redraws: b[2] - a[2],
          epochs: b[3] - a[3], stats: JSON.parse(JSON.stringify(window.playgroundStats))};
}"""


def tf_hash() -> str:
    """TF Playground's URL hash for the shared network and data."""
    return "&".join(f"{k}={v}" for k, v in TF_STATE.items())


def ours_query() -> str:
    """shallowlab playground's URL fragment for the shared network and data."""
    return "&".join(f"{k}={v}" for k, v in OURS.items())


def free_port() -> int:
    """A TCP port on 127.0.0.1 free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def static_server(folder: Path) -> Iterator[str]:
    """``folder`` served on 127.0.0.1 from a thread; yields its base URL."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """Headless Chromium with the benchmark's flags, through Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def fresh_page(browser: object, base: str) -> Iterator[object]:
    """A page in a context of its own that may only reach ``base``, frame counter injected."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_()
                   if route.request.url.startswith(base) else route.abort())
        page.add_init_script(FRAMES)
        yield page
    finally:
        context.close()


def rates(seconds: float, frames: int, redraws: float, epochs: float) -> dict:
    """A side's numbers from its counts over ``seconds``."""
    return {"seconds": seconds, "frames_per_s": frames / seconds,
            "redraws_per_s": redraws / seconds, "epochs_per_s": epochs / seconds,
            "epochs_per_redraw": epochs / redraws if redraws else 0.0}


def tf_round(browser: object, base: str, seconds: float) -> dict:
    """One measurement of TF Playground's pace: served at ``base``, opened afresh, played."""
    with fresh_page(browser, base) as page:
        page.goto(f"{base}#{tf_hash()}")
        page.wait_for_selector("#play-pause-button")
        if (shown := page.evaluate(TF_SHOWN)) != TF_EXPECTED:
            raise RuntimeError(f"TensorFlow Playground took other settings: {shown}")
        idle = page.evaluate(IDLE_SAMPLE, WARMUP)
        page.click("#play-pause-button")
        page.wait_for_timeout(WARMUP * 1000)
        s = page.evaluate(TF_SAMPLE, seconds)
    # one oneStep = one epoch over the training points and one redraw
    return {**rates(s["seconds"], s["frames"], s["epochs"], s["epochs"]),
            "idle_frames_per_s": idle}


@contextlib.contextmanager
def playground_server(port: int, *extra: str) -> Iterator[subprocess.Popen]:
    """``shallowlab playground --no-browser --port port [extra]`` until it answers; stopped by
    its pid. Its output goes to a temporary file (a pipe nobody reads would fill and block it),
    whose text :func:`server_log` gives."""
    exe = Path(sys.executable).with_name("shallowlab")
    cmd = [str(exe), "playground"] if exe.exists() else \
        [sys.executable, "-m", "shallowlab", "playground"]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([*cmd, "--no-browser", "--port", str(port), *extra],
                                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        proc.log = log  # type: ignore[attr-defined]
        try:
            wait_listening(port, proc)
            yield proc
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait()


def server_log(proc: subprocess.Popen, tail: int = 4000) -> str:
    """The last ``tail`` characters the server printed so far."""
    log = proc.log  # type: ignore[attr-defined]
    log.seek(0)
    return log.read().decode(errors="replace")[-tail:]


def wait_listening(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    """Until 127.0.0.1:port accepts a connection; RuntimeError if ``proc`` exits first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"shallowlab playground exited {proc.returncode}: "
                               f"{server_log(proc).strip()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"shallowlab playground did not listen on port {port} in {timeout:g} s")


def shown(page: object, timeout: float = 30.0) -> None:
    """Until the page has its session and has drawn its first frame (Play works from then;
    polled from here: the page's policy forbids the string evaluation of wait_for_function)."""
    end = time.monotonic() + timeout
    while not page.evaluate(READY):
        if time.monotonic() > end:
            raise RuntimeError(f"the playground page showed no frame in {timeout:g} s")
        time.sleep(0.05)


def same_settings(shown: str) -> None:
    """RuntimeError unless the page's fragment (rewritten from the server's ``ready``) is the
    benchmark's network and data."""
    from shallowlab.playground import Settings

    if Settings.from_query(shown) != Settings.from_query(ours_query()):
        raise RuntimeError(f"shallowlab playground took other settings: #{shown}")


def ours_round(browser: object, base: str, seconds: float) -> dict:
    """One measurement of shallowlab playground's pace: the same network in its URL, opened
    afresh, Play pressed, its own stats read."""
    with fresh_page(browser, base) as page:
        page.goto(f"{base}#{ours_query()}")
        play = page.get_by_role("button", name="Play", exact=True)
        shown(page)
        same_settings(page.evaluate("() => location.hash").lstrip("#"))
        idle = page.evaluate(IDLE_SAMPLE, WARMUP)
        play.click()
        page.wait_for_timeout(WARMUP * 1000)
        s = page.evaluate(OURS_SAMPLE, seconds)
    return {**rates(s["seconds"], s["frames"], s["redraws"], s["epochs"]),
            "idle_frames_per_s": idle, "page_stats": s["stats"]}
