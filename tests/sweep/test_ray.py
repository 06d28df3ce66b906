"""``shallowlab sweep --ray`` on a real two-node Ray cluster, started by this module inside a
network namespace of its own (tests/ray_cluster.py) and stopped by process id."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.conftest import (
    MLP_SWEEP,
    history_without_seconds,
    running,
    shallowlab_command,
    trials_without_seconds,
)
from tests.ray_cluster import ADDRESS, Cluster, unavailable

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.fixture(scope="module")
def cluster():
    with Cluster() as c:
        yield c


def sweep_on(cluster: Cluster, *args, timeout=900):
    return subprocess.run(cluster.inside(*shallowlab_command("sweep", *args, "--ray", ADDRESS)),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.data
def test_the_sweep_on_ray_gives_the_local_sweeps_results(cluster, mlp_sweep, tmp_path):
    out = tmp_path / "ray"
    result = sweep_on(cluster, *MLP_SWEEP, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "on the Ray cluster" in result.stdout
    local = mlp_sweep[0]
    assert trials_without_seconds(out) == trials_without_seconds(local)
    for trial in json.loads((out / "sweep.json").read_text())["trials"]:
        # every file a trial run leaves came back to this machine's sweep folder
        names = {p.name for p in (local / trial["name"]).iterdir()} - {".lock"}
        assert names <= {p.name for p in (out / trial["name"]).iterdir()}
        assert history_without_seconds(out / trial["name"]) == \
            history_without_seconds(local / trial["name"])


def test_losing_a_node_in_the_middle_loses_no_trial(cluster, toy_data, tmp_path):
    out = tmp_path / "s"
    args = ("mlp", "--grid", "lr=0.05,0.1,0.2", "--seeds", "2", "--epochs", "3",
            "--data-dir", toy_data, "--out", out, "--ray", ADDRESS)
    with running(cluster.inside(*shallowlab_command("sweep", *args))) as process:

        def finished() -> int:
            try:
                return len(json.loads((out / "trials.json").read_text()))
            except (OSError, ValueError):
                return 0

        deadline = time.monotonic() + 300
        while finished() == 0:  # trials.json appears when the first trial ends
            assert process.poll() is None and time.monotonic() < deadline, \
                process.communicate()
            time.sleep(0.1)
        cluster.kill_worker_node()  # the worker node is in the middle of a trial now
        printed, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    rows = json.loads((out / "trials.json").read_text())
    assert len(rows) == 6 and {r["status"] for r in rows} == {"completed"}
    assert all(r["epochs"] == 3 for r in rows)
    # it finished on the node that is left, once Ray has counted the other dead
    assert cluster.wait_until_alive(1, seconds=60), "Ray still counts the killed node alive"
