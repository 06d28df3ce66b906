"""Fashion-MNIST: where the files are looked for, downloading them from a real local HTTP server,
and what load() makes of them."""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from shallowlab.data import fashion_mnist as fm
from shallowlab.data.idx import write_idx
from shallowlab.errors import ConfigError, DataError
from tests.conftest import toy_images, write_fashion

NAMES = tuple(fm.FILES)  # train-images, train-labels, t10k-images, t10k-labels


def files_of(folder: Path, ext: str = ".gz") -> dict[str, Path]:
    return {name: folder / f"{name}{ext}" for name in NAMES}


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def closed_port_url() -> str:
    """The URL of a local port nothing listens on: connecting is refused at once."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@dataclass
class Server:
    url: str
    requested: list[str] = field(default_factory=list)
    folder: Path | None = None


@contextmanager
def http_server(folder: Path):
    """A real HTTP server on 127.0.0.1 serving the files of ``folder`` (404 for anything else)."""
    server_info = Server("")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):
            server_info.requested.append(self.path)
            super().do_GET()

        def log_message(self, *args):  # keep the test output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_info.url = f"http://127.0.0.1:{server.server_port}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server_info
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def tcp_server(reply: bytes | None):
    """A TCP server on 127.0.0.1 that reads each request and answers ``reply``, whatever it is;
    with ``reply=None`` it accepts connections and never answers."""
    info = Server("")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)
    info.url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop, held = threading.Event(), []

    def serve():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            if request:
                info.requested.append(request.split(b" ")[1].decode())
            if reply is None:
                held.append(conn)
                continue
            conn.sendall(reply)
            conn.shutdown(socket.SHUT_WR)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        stop.set()
        thread.join()
        listener.close()
        for conn in held:
            conn.close()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local HTTP mirror of toy Fashion-MNIST gz files, with ``FILES`` holding their MD5s."""
    folder = write_fashion(tmp_path / "mirror")
    monkeypatch.setattr(fm, "FILES", {name: md5_of(folder / f"{name}.gz") for name in NAMES})
    with http_server(folder) as server:
        server.folder = folder
        yield server


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# --- where the files are looked for -------------------------------------------------------------

def test_each_place_wins_over_every_later_one(tmp_path, monkeypatch):
    given, env = write_fashion(tmp_path / "given"), write_fashion(tmp_path / "env")
    cache = write_fashion(fm.cache_dir())  # under the test's own XDG_CACHE_HOME
    system = (tmp_path / "sys-empty", write_fashion(tmp_path / "sys1"),
              write_fashion(tmp_path / "sys2"))
    system[0].mkdir()
    monkeypatch.setenv("SHALLOWLAB_DATA", str(env))

    def found(data_dir=None):
        return fm.locate(data_dir, allow_download=False, system_dirs=system)

    assert found(given) == files_of(given)  # --data-dir beats SHALLOWLAB_DATA and all the rest
    assert found(str(given)) == files_of(given)
    assert found() == files_of(env)  # then SHALLOWLAB_DATA
    monkeypatch.delenv("SHALLOWLAB_DATA")
    assert found() == files_of(cache)  # then the user cache
    (cache / "t10k-labels-idx1-ubyte.gz").unlink()
    assert found() == files_of(system[1])  # a folder with three of the four files does not count
    (system[1] / "train-images-idx3-ubyte.gz").unlink()
    assert found() == files_of(system[2])  # then the system folders, in order


def test_the_user_cache_follows_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fm.cache_dir() == tmp_path / "xdg" / "shallowlab" / "fashion-mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert fm.cache_dir() == tmp_path / "home" / ".cache" / "shallowlab" / "fashion-mnist"


@pytest.mark.parametrize("where", ["data_dir", "cache", "system"])
def test_the_torchvision_layout_fashionmnist_raw_is_found(tmp_path, where):
    top = fm.cache_dir() if where == "cache" else tmp_path / "top"
    raw = write_fashion(top / "FashionMNIST" / "raw")
    data_dir = top if where == "data_dir" else None
    system = (top,) if where == "system" else ()
    assert fm.locate(data_dir, allow_download=False, system_dirs=system) == files_of(raw)


def test_uncompressed_files_are_found_and_load_like_the_gzip_ones(tmp_path):
    raw, gz = write_fashion(tmp_path / "raw", gz=False), write_fashion(tmp_path / "gz")
    assert fm.locate(raw, allow_download=False, system_dirs=()) == files_of(raw, ext="")
    a, b = fm.load(raw, allow_download=False), fm.load(gz, allow_download=False)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    # each file may be either; the gzip one is taken where both are there
    mixed = write_fashion(tmp_path / "mixed")
    (mixed / "t10k-images-idx3-ubyte.gz").rename(mixed / "t10k-images-idx3-ubyte.tmp")
    (raw / "t10k-images-idx3-ubyte").rename(mixed / "t10k-images-idx3-ubyte")
    (raw / "train-images-idx3-ubyte").rename(mixed / "train-images-idx3-ubyte")
    expected = files_of(mixed) | {"t10k-images-idx3-ubyte": mixed / "t10k-images-idx3-ubyte"}
    assert fm.locate(mixed, allow_download=False, system_dirs=()) == expected


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_a_data_dir_that_is_not_a_folder_is_a_config_error_naming_the_setting(
        tmp_path, monkeypatch, kind):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    if kind == "file":
        path.write_bytes(b"not a folder")
    with pytest.raises(ConfigError, match=re.escape(f"--data-dir {path} is not a folder")):
        fm.locate(path, allow_download=False, system_dirs=())
    with pytest.raises(ConfigError, match=re.escape(f"--data-dir {path} is not a folder")):
        fm.load(str(path))
    monkeypatch.setenv("SHALLOWLAB_DATA", str(path))
    with pytest.raises(ConfigError, match=re.escape(f"SHALLOWLAB_DATA {path} is not a folder")):
        fm.locate(allow_download=False, system_dirs=())


def test_when_nothing_is_found_the_error_lists_every_place_and_the_fix(tmp_path, monkeypatch):
    env, sys1, sys2 = (tmp_path / name for name in ("env", "sys1", "sys2"))
    env.mkdir()
    write_fashion(sys1)
    (sys1 / "train-labels-idx1-ubyte.gz").unlink()  # three files of four
    monkeypatch.setenv("SHALLOWLAB_DATA", str(env))
    with pytest.raises(DataError) as info:
        fm.locate(allow_download=False, system_dirs=(sys1, sys2))
    message = str(info.value)
    places = [str(env), str(fm.cache_dir()), str(sys1), str(sys2)]
    positions = [message.index(f"{place} (not all four files)") for place in places]
    assert positions == sorted(positions)  # in the order tried
    assert "download" not in message.split("; to fix")[0]
    assert "`sudo apt-get install dataset-fashion-mnist`" in message
    assert "`shallowlab data`" in message and "--data-dir DIR" in message
    assert all(f"{name}.gz" in message for name in NAMES)
    assert "\n" not in message

    refused = closed_port_url()
    with pytest.raises(DataError) as info:
        fm.locate(allow_download=True, system_dirs=(sys1, sys2), mirrors=(refused,))
    message = str(info.value)
    assert all(f"{place} (not all four files)" in message for place in places)
    assert f"download into {env}: {refused}train-images-idx3-ubyte.gz: " in message
    assert "refused" in message.lower()
    assert "apt-get install dataset-fashion-mnist" in message
    assert sorted(env.iterdir()) == []  # nothing half-downloaded left behind


# --- download ----------------------------------------------------------------------------------

def test_download_fills_the_cache_and_load_then_reads_it(mirror):
    files = fm.locate(system_dirs=(), mirrors=(mirror.url,))
    cache = fm.cache_dir()
    assert files == files_of(cache)
    assert sorted(mirror.requested) == sorted(f"/{name}.gz" for name in NAMES)
    for name, path in files.items():
        assert path.read_bytes() == (mirror.folder / f"{name}.gz").read_bytes()
    assert leftovers(cache) == []

    data = fm.load()  # the cache comes before any system folder, so it is what load() reads
    assert data.source == cache
    images, labels = toy_images(600, 1)
    assert torch.equal(data.train_images, torch.from_numpy(images))
    assert torch.equal(data.train_labels, torch.from_numpy(labels).long())
    assert len(mirror.requested) == 4  # found in the cache: not downloaded again


def test_download_goes_into_the_given_data_dir(tmp_path, mirror):
    target = tmp_path / "mine"
    target.mkdir()
    assert fm.locate(target, system_dirs=(), mirrors=(mirror.url,)) == files_of(target)
    assert not fm.cache_dir().exists()
    assert fm.load(target, allow_download=False).train_images.shape == (600, 28, 28)


def _failures(dest, **kwargs) -> list[str]:
    """What fm.download says failed: it raises one DataError, in one line, listing them."""
    with pytest.raises(DataError) as info:
        fm.download(dest, **kwargs)
    assert "\n" not in str(info.value) and str(dest) in str(info.value)
    return info.value.failures


def test_the_shallowlab_mirror_setting_replaces_the_mirrors(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv("SHALLOWLAB_MIRROR", mirror.url)
    fm.download(tmp_path / "dest")
    assert len(mirror.requested) == 4
    assert all(md5_of(p) == fm.FILES[n] for n, p in files_of(tmp_path / "dest").items())


def test_an_md5_mismatch_leaves_no_file_under_the_real_name(tmp_path, mirror):
    # the mirror serves other labels than the ones whose MD5 is published
    write_idx(mirror.folder / "train-labels-idx1-ubyte.gz", toy_images(600, 99)[1])
    dest = tmp_path / "dest"
    failures = _failures(dest, mirrors=(mirror.url,))
    url = f"{mirror.url}train-labels-idx1-ubyte.gz"
    assert failures == [f"{url}: MD5 {md5_of(mirror.folder / 'train-labels-idx1-ubyte.gz')} "
                        f"does not match the published {fm.FILES['train-labels-idx1-ubyte']}"]
    # the file before it came in whole; the wrong one never got its name; no temporary is left
    assert sorted(p.name for p in dest.iterdir()) == ["train-images-idx3-ubyte.gz"]

    with pytest.raises(DataError) as info:
        fm.locate(dest, system_dirs=(), mirrors=(mirror.url,))
    assert url in str(info.value) and "does not match" in str(info.value)
    assert sorted(p.name for p in dest.iterdir()) == ["train-images-idx3-ubyte.gz"]


def test_files_already_there_are_kept_when_right_and_replaced_when_wrong(tmp_path, mirror):
    dest = tmp_path / "dest"
    dest.mkdir()
    shutil.copy(mirror.folder / "train-images-idx3-ubyte.gz", dest)
    (dest / "t10k-labels-idx1-ubyte.gz").write_bytes(b"half a file")
    fm.download(dest, mirrors=(mirror.url,))
    assert sorted(mirror.requested) == sorted(f"/{n}.gz" for n in NAMES[1:])
    assert all(md5_of(p) == fm.FILES[n] for n, p in files_of(dest).items())


BAD_MIRRORS = {
    "refused": (None, "refused"),
    "404": (b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n", "Not Found"),
    "not-http": (b"SSH-2.0-OpenSSH_9.2\r\n", "not a valid HTTP answer"),
    "cut-short": (b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n0123456789",
                  "does not match"),
    "chunks-cut-short": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123",
                         "not a valid HTTP answer"),
    "silent": (None, "timed out"),
}


@contextmanager
def bad_mirror(kind: str):
    reply = BAD_MIRRORS[kind][0]
    if kind == "refused":
        yield Server(closed_port_url())
    else:
        with tcp_server(reply) as server:
            yield server


@pytest.mark.parametrize("kind", sorted(BAD_MIRRORS))
def test_a_failing_mirror_is_reported_and_the_next_one_tried(tmp_path, mirror, kind):
    dest = tmp_path / "dest"
    with bad_mirror(kind) as bad:
        fm.download(dest, mirrors=(bad.url, mirror.url), timeout=0.5)
        if kind != "refused":
            assert sorted(bad.requested) == sorted(f"/{name}.gz" for name in NAMES)
        assert all(md5_of(p) == fm.FILES[n] for n, p in files_of(dest).items())
        assert leftovers(dest) == []

        # with no good mirror after it, the failure names the URL and says what went wrong
        alone = tmp_path / "alone"
        failures = _failures(alone, mirrors=(bad.url,), timeout=0.5)
    assert len(failures) == 1
    assert failures[0].startswith(f"{bad.url}train-images-idx3-ubyte.gz: ")
    assert BAD_MIRRORS[kind][1] in failures[0]
    assert sorted(alone.iterdir()) == []  # no .part file, and nothing under a real name


def test_every_mirror_tried_is_in_the_failures(tmp_path):
    with tcp_server(BAD_MIRRORS["404"][0]) as missing, tcp_server(b"garbage\r\n") as junk:
        mirrors = (closed_port_url(), missing.url, junk.url)
        failures = _failures(tmp_path / "dest", mirrors=mirrors)
    assert [f.split(": ")[0] for f in failures] == [
        f"{m}train-images-idx3-ubyte.gz" for m in mirrors]
    assert leftovers(tmp_path / "dest") == []


def test_no_mirror_at_all_is_a_failure_not_a_success(tmp_path):
    assert _failures(tmp_path / "dest", mirrors=()) == ["no mirror to download from"]
    with pytest.raises(DataError, match="no mirror to download from"):
        fm.locate(system_dirs=(), mirrors=())


def test_a_target_that_cannot_be_created_is_a_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    failures = _failures(blocker / "sub", mirrors=(closed_port_url(),))
    assert len(failures) == 1 and failures[0].startswith(f"cannot create {blocker / 'sub'}")


def real_gz_files(real_data: Path) -> dict[str, Path]:
    files = fm.files_in(real_data)
    if any(p.suffix != ".gz" for p in files.values()):
        pytest.skip(f"the Fashion-MNIST files in {real_data} are not gzip-compressed")
    return files


def download_and_load(files: dict[str, Path], dest: Path) -> fm.FashionMNIST:
    with http_server(files["train-images-idx3-ubyte"].parent) as server:
        fm.download(dest, mirrors=(server.url,))
        assert len(server.requested) == 4
    assert {n: md5_of(p) for n, p in files_of(dest).items()} == fm.FILES
    assert leftovers(dest) == []
    data = fm.load(dest, allow_download=False)
    assert data.source == dest
    assert data.train_images.shape == (60000, 28, 28)
    assert data.test_labels.shape == (10000,)
    return data


@pytest.mark.data
def test_download_of_the_published_files_checks_their_published_md5s(tmp_path, real_data):
    files = real_gz_files(real_data)
    installed = {name: md5_of(path) for name, path in files.items()}
    if installed != fm.FILES:
        pytest.skip(f"the .gz files in {real_data} are not byte for byte the published ones "
                    "(their MD5s differ: they were compressed again, e.g. by the Debian package)")
    download_and_load(files, tmp_path / "dest")


@pytest.mark.data
def test_download_of_full_size_files_then_load(tmp_path, real_data, monkeypatch):
    # 26 MB through a real server, in many blocks, each file checked against its MD5
    files = real_gz_files(real_data)
    monkeypatch.setattr(fm, "FILES", {name: md5_of(path) for name, path in files.items()})
    data = download_and_load(files, tmp_path / "dest")
    reference = fm.load(real_data, allow_download=False)
    assert torch.equal(data.train_images, reference.train_images)
    assert torch.equal(data.test_labels, reference.test_labels)


# --- load ---------------------------------------------------------------------------------------

def test_load_gives_uint8_images_and_int64_labels(toy_data):
    data = fm.load(toy_data, allow_download=False)
    assert data.source == toy_data
    for images, labels, n, seed in ((data.train_images, data.train_labels, 600, 1),
                                    (data.test_images, data.test_labels, 200, 2)):
        assert images.dtype == torch.uint8 and images.shape == (n, 28, 28)
        assert labels.dtype == torch.int64 and labels.shape == (n,)
        expected_images, expected_labels = toy_images(n, seed)
        assert np.array_equal(images.numpy(), expected_images)
        assert np.array_equal(labels.numpy(), expected_labels)


@pytest.mark.parametrize("split, n", [("train", 600), ("t10k", 200)])
def test_load_rejects_images_and_labels_of_different_counts(toy_data, split, n):
    write_idx(toy_data / f"{split}-labels-idx1-ubyte.gz", toy_images(n - 1, 5)[1])
    with pytest.raises(DataError) as info:
        fm.load(toy_data, allow_download=False)
    message = str(info.value)
    assert str(toy_data / f"{split}-images-idx3-ubyte.gz") in message
    assert str(toy_data / f"{split}-labels-idx1-ubyte.gz") in message
    assert f"{n} images" in message and f"{n - 1} labels" in message


@pytest.mark.parametrize("shape", [(200, 28, 27), (200, 32, 32), (200, 784, 1)])
def test_load_rejects_images_that_are_not_28x28(toy_data, shape):
    path = toy_data / "t10k-images-idx3-ubyte.gz"
    write_idx(path, np.zeros(shape, np.uint8))
    with pytest.raises(DataError) as info:
        fm.load(toy_data, allow_download=False)
    assert str(path) in str(info.value)
    assert f"images are {shape[1]}x{shape[2]}, Fashion-MNIST's are 28x28" in str(info.value)


def test_load_rejects_labels_outside_0_to_9(toy_data):
    path = toy_data / "train-labels-idx1-ubyte.gz"
    labels = toy_images(600, 1)[1]
    labels[123] = 10
    write_idx(path, labels)
    with pytest.raises(DataError) as info:
        fm.load(toy_data, allow_download=False)
    assert str(path) in str(info.value) and "label 10 at index 123" in str(info.value)


def test_load_says_when_images_and_labels_are_swapped(toy_data):
    images = toy_data / "train-images-idx3-ubyte.gz"
    labels = toy_data / "train-labels-idx1-ubyte.gz"
    images.rename(toy_data / "tmp")
    labels.rename(images)
    (toy_data / "tmp").rename(labels)
    with pytest.raises(DataError) as info:
        fm.load(toy_data, allow_download=False)
    assert str(images) in str(info.value) and "swap images and labels" in str(info.value)


def test_load_rejects_a_truncated_file_naming_it(toy_data):
    path = toy_data / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=re.escape(str(path))):
        fm.load(toy_data, allow_download=False)


@pytest.mark.data
def test_the_real_dataset_loads_whole(real_data):
    data = fm.load(real_data, allow_download=False)
    assert data.source == real_data
    assert data.train_images.shape == (60000, 28, 28)
    assert data.test_images.shape == (10000, 28, 28)
    assert data.train_images.dtype == data.test_images.dtype == torch.uint8
    assert data.train_labels.dtype == data.test_labels.dtype == torch.int64
    assert torch.bincount(data.train_labels).tolist() == [6000] * 10
    assert torch.bincount(data.test_labels).tolist() == [1000] * 10
    assert len(fm.CLASS_NAMES) == 10
    assert 0 < data.train_images.float().mean() < 255  # not blank


def test_the_cli_reports_an_md5_mismatch_in_one_line_and_keeps_nothing(tmp_path):
    """``shallowlab data --download`` from a mirror whose files are not the published ones
    (toy files): exit 1, one line naming the URL and both MD5s, no file under a real name."""
    served = write_fashion(tmp_path / "mirror")
    dest = tmp_path / "dest"
    with http_server(served) as server:
        result = subprocess.run(
            [sys.executable, "-m", "shallowlab", "data", "--download", "--data-dir", str(dest)],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "SHALLOWLAB_MIRROR": server.url})
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    url = f"{server.url}train-images-idx3-ubyte.gz"
    assert line.startswith(f"shallowlab: error: downloading Fashion-MNIST into {dest} failed: ")
    assert (f"{url}: MD5 {md5_of(served / 'train-images-idx3-ubyte.gz')} does not match the "
            f"published {fm.FILES['train-images-idx3-ubyte']}") in line
    assert list(dest.iterdir()) == []
    assert server.requested == ["/train-images-idx3-ubyte.gz"]  # it stops at the first bad file
