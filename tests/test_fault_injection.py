"Fault injection beyond training: kill -9 a `run` in its assisted-head stage or after its scaling statistics, run it again, and get the metrics of an uninterrupted run."
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stfpm_nb.demo import make_demo_dataset

TINY = ["--image-size", "64", "--epochs", "2", "--batch-size", "8", "--device", "cpu", "--quiet",
        "--methods", "stfpm,scaled,assisted", "--scaling", "layer", "--assisted-epochs", "6", "--assisted-steps", "4",
        "--egs-draws", "50"]
CLI = [sys.executable, "-c", "import sys; from stfpm_nb.cli import main; sys.exit(main())"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return make_demo_dataset(tmp_path_factory.mktemp("data") / "demo", categories=["demo_brick"], image_size=64,
                             n_train=12, n_test_good=3, n_test_defect=2)


def run(demo: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "run", "--data-root", str(demo), "--category", "demo_brick", "--out", str(out), *TINY],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=ENV)


def metrics(out: Path) -> dict:
    "metrics.json without what depends on the clock (seconds) or on where the run is (out)."
    m = json.loads((out / "metrics.json").read_text())
    m.pop("seconds", None); m["params"].pop("out")
    return m


@pytest.fixture(scope="module")
def reference(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    proc = run(demo, out); _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return metrics(out)


@pytest.mark.parametrize("marker", ["scaling.pt", "assisted/last.pt"])
def test_kill_9_then_rerun_equals_uninterrupted(demo, reference, tmp_path, marker):
    "SIGKILL as soon as `marker` appears (statistics written; the head's first epoch done), then the same command."
    out = tmp_path / "run"
    proc, deadline = run(demo, out), time.time() + 600
    while proc.poll() is None and not (out / marker).exists() and time.time() < deadline: time.sleep(0.005)
    killed = proc.poll() is None
    if killed: proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert killed, f"the run finished before {marker} appeared"
    assert not (out / "metrics.json").exists()                          # nothing claims to be finished
    again = run(demo, out); _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert metrics(out) == reference
