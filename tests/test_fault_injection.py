"Fault injection beyond training: kill -9 a `run` after its scaling statistics or in its assisted-head stage, a `batch` in the middle of a category, or `table` between the files it writes; the same command again gives the uninterrupted result."
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


# --- a whole batch, and the report it ends with -------------------------------------------------------------------

BATCH_PARAMS = ["-p", "image_size", "64", "-p", "epochs", "2", "-p", "batch_size", "8", "-p", "device", "cpu",
                "-p", "methods", "stfpm,scaled,assisted", "-p", "scaling", "layer", "-p", "assisted_epochs", "6",
                "-p", "assisted_steps", "4", "-p", "egs_draws", "50", "-p", "figure_images", "2"]


def batch(demo: Path, out: Path) -> subprocess.Popen:
    "`stfpm-nb batch` in a session of its own, so that a kill can take its papermill kernel with it (as a crash would)."
    return subprocess.Popen([*CLI, "batch", "--data-root", str(demo), "--categories", "demo_brick", "--out", str(out),
                             "--quiet", *BATCH_PARAMS], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=ENV, start_new_session=True)


def batch_metrics(out: Path) -> dict:
    m = json.loads((out / "demo_brick" / "metrics.json").read_text())
    m.pop("seconds", None)
    return m


def tables(folder: Path) -> dict[str, bytes]:
    "The report files of a batch folder (tables and figure), by name."
    return {p.name: p.read_bytes() for p in folder.glob("results*")}


@pytest.fixture(scope="module")
def batch_reference(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch_ref") / "batch"
    proc = batch(demo, out); _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    return out


def test_kill_9_during_a_batch_then_rerun_equals_uninterrupted(demo, batch_reference, tmp_path):
    "SIGKILL the batch and its notebook's kernel in the middle of a category (statistics written), then the same command."
    out = tmp_path / "batch"
    proc, deadline = batch(demo, out), time.time() + 900
    marker = out / ".demo_brick.work" / "scaling.pt"
    while proc.poll() is None and not marker.exists() and time.time() < deadline: time.sleep(0.005)
    killed = proc.poll() is None
    if killed: os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert killed, "the batch finished before the category's statistics were written"
    assert not (out / "demo_brick").exists() and not tables(out)     # nothing claims to be finished
    again = batch(demo, out); _, err = again.communicate(timeout=900)
    assert again.returncode == 0, err
    assert batch_metrics(out) == batch_metrics(batch_reference)
    assert tables(out) == tables(batch_reference)
    assert not list(out.glob(".*.work"))                              # the resumed working folder became the result


KILL_AT_RENAME = ("import os, signal, sys\n"
                  "from stfpm_nb.cli import main\n"
                  "replace, count, kill_at = os.replace, [0], int(os.environ['KILL_AT'])\n"
                  "def dying_replace(src, dst):\n"
                  "    count[0] += 1\n"
                  "    if count[0] == kill_at: os.kill(os.getpid(), signal.SIGKILL)   # the file is written, not yet renamed\n"
                  "    replace(src, dst)\n"
                  "os.replace = dying_replace\n"
                  "sys.exit(main())")


@pytest.mark.parametrize("kill_at", [1, 4, 12])
def test_kill_9_while_writing_the_report_then_rerun_equals_uninterrupted(batch_reference, tmp_path, kill_at):
    "SIGKILL `stfpm-nb table` just before its `kill_at`-th file would be renamed into place: nothing half-written, and the rerun gives the same files."
    folder = tmp_path / "batch"
    (folder / "demo_brick").mkdir(parents=True)
    (folder / "demo_brick" / "metrics.json").write_bytes((batch_reference / "demo_brick" / "metrics.json").read_bytes())
    reference = tables(batch_reference)
    dying = subprocess.run([sys.executable, "-c", KILL_AT_RENAME, "table", str(folder)], env={**ENV, "KILL_AT": str(kill_at)},
                           capture_output=True, text=True, timeout=300)
    assert dying.returncode == -signal.SIGKILL, dying.stderr
    written = tables(folder)
    assert len(written) == kill_at - 1 and all(written[name] == reference[name] for name in written)   # whole files only
    again = subprocess.run([*CLI, "table", str(folder)], env=ENV, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert tables(folder) == reference
    assert not list(folder.glob(".*.tmp"))                               # the killed writer's temporary is gone too


def processes_in(folder: Path) -> list[int]:
    "The processes whose working directory lies in `folder` (from Linux's /proc)."
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit(): continue
        try: cwd = Path(os.readlink(entry / "cwd"))
        except OSError: continue
        if cwd.is_relative_to(folder): found.append(int(entry.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's")
def test_kill_9_of_the_batch_process_alone_stops_its_notebook(demo, tmp_path):
    "SIGKILL the batch process only, not its group (as `kill PID` or a scheduler might): its papermill process and kernel stop too, so no orphan trains beside the rerun."
    out = (tmp_path / "batch").resolve()
    proc, deadline = batch(demo, out), time.time() + 900
    while proc.poll() is None and not (out / ".demo_brick.work" / "stfpm").exists() and time.time() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the batch finished before the student's training started"
    assert processes_in(out), "the notebook was expected to run in the category's working folder"
    os.kill(proc.pid, signal.SIGKILL); proc.wait(timeout=60)
    deadline = time.time() + 60
    while processes_in(out) and time.time() < deadline: time.sleep(0.2)
    assert not processes_in(out)
    assert not (out / ".demo_brick.work" / "metrics.json").exists()   # an orphan would have finished the notebook
