"""Results directories against hostile states (issue 12): every read verified, --resume repairs what it can and
refuses the rest, every state a kill leaves resumable, one writer at a time, SIGTERM, kill/resume torture, a
quiet Dask shutdown, and two inputs that were accepted silently."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from model.cli import main
from model.sweeps import SweepError, load_results, run_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY_SET = {"run.days": 40, "run.warmup_days": 5, "platforms.X.reports_per_day": 50}


def tiny_sweep(windows: tuple[int, ...] = (60, 365), replications: int = 2, **changes: object) -> dict:
    spec = {"base": "x_platform", "set": dict(TINY_SET), "design": "grid", "replications": replications, "seed": 7,
            "factors": [{"key": "retention.window_days", "name": "window", "values": list(windows)}]}
    spec.update(changes)
    return spec


def fake_simulate(scenario, seed):
    """A fast stand-in for the model: values that depend on the point and the seed only."""
    window = scenario.retention.window_days
    return None, {"evidence_lost": (seed % 1000) + window, "evidence_lost_rate": window / 1000, "wall_seconds": 0.0}


def slow_simulate(scenario, seed):
    time.sleep(0.25)
    return fake_simulate(scenario, seed)


def write_toml(path: Path, spec: dict) -> Path:
    import tomli_w
    path.write_text(tomli_w.dumps(spec))
    return path


def same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    drop = [c for c in ("wall_seconds",) if c in a]
    return a.drop(columns=drop).reset_index(drop=True).equals(b.drop(columns=drop).reset_index(drop=True))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A finished fake sweep of 4 runs in two chunks (part-00000: runs 0-1, part-00001: runs 2-3)."""
    out = tmp_path / "s"
    run_sweep(write_toml(tmp_path / "tiny.toml", tiny_sweep()), out, workers=1, simulate=fake_simulate, chunk_rows=2)
    assert [p.name for p in sorted((out / "results").glob("*.parquet"))] == ["part-00000.parquet", "part-00001.parquet"]
    return out


def part(out: Path, n: int) -> Path:
    return out / "results" / f"part-{n:05d}.parquet"


def refused(out: Path, capsys, *fragments: str) -> None:
    """Every reader refuses the directory with exit 2 (or a SweepError) naming what is wrong."""
    with pytest.raises(SweepError) as caught:
        load_results(out)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err
    assert all(fragment in err for fragment in fragments), err
    assert not (out / "analysis").exists()


# ------------------------------------------------------------------------------------- 1. verified reads


def test_a_copied_chunk_is_refused_by_every_reader_and_dropped_by_resume(store, tmp_path, capsys):
    reference = load_results(store)
    shutil.copy(part(store, 0), part(store, 7))
    refused(store, capsys, "part-00000.parquet and in part-00007.parquet", "stored", "--resume")
    assert main(["report", str(store), "--out", str(tmp_path / "r.html")]) == 2
    assert "stored in part-00000.parquet and in part-00007.parquet" in capsys.readouterr().err
    frame = run_sweep(store.parent / "tiny.toml", store, workers=1, simulate=fake_simulate, resume=True)
    assert not part(store, 7).exists() and same(frame, reference) and len(frame) == 4


def test_resume_rewrites_a_chunk_that_repeats_some_runs_and_reruns_what_is_missing(store):
    reference = load_results(store)
    first, second = (pq.read_table(part(store, n)).sort_by("run_id") for n in (0, 1))  # runs 0, 1 and 2, 3
    part(store, 1).unlink()  # runs 2 and 3 lost ...
    pq.write_table(pa.concat_tables([first.slice(1, 1), second.slice(0, 1)]), part(store, 5))  # ... runs 1, 2 here
    with pytest.raises(SweepError, match=r"run 1 .*stored in part-00000\.parquet and in part-00005\.parquet"):
        load_results(store)
    frame = run_sweep(store.parent / "tiny.toml", store, workers=1, simulate=fake_simulate, resume=True)
    assert pq.read_table(part(store, 5)).column("run_id").to_pylist() == [2]  # the repeated run 1 dropped
    assert same(frame, reference) and sorted(frame["run_id"]) == [0, 1, 2, 3]


def test_a_repeated_run_with_different_values_is_refused_by_resume(store, capsys):
    table = pq.read_table(part(store, 0))
    changed = table.set_column(table.column_names.index("evidence_lost"), "evidence_lost",
                               pa.array([1, 2], table.schema.field("evidence_lost").type))
    pq.write_table(changed, part(store, 3))
    path = store.parent / "tiny.toml"
    with pytest.raises(SweepError, match=r"part-00003\.parquet: run [01] .*also stored in part-00000\.parquet with different"):
        run_sweep(path, store, workers=1, simulate=fake_simulate, resume=True)
    assert main(["sweep", str(path), "--out", str(store), "--workers", "1", "--resume"]) == 2
    assert "part-00003.parquet" in capsys.readouterr().err and part(store, 3).exists()


def _wrong_schema(path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), path)


def _float_run_ids(path: Path) -> None:
    table = pq.read_table(path)
    pq.write_table(table.set_column(0, "run_id", table["run_id"].cast(pa.float64())), path)


def _text_metric(path: Path) -> None:
    table = pq.read_table(path)
    i = table.column_names.index("evidence_lost")
    pq.write_table(table.set_column(i, "evidence_lost", table["evidence_lost"].cast(pa.string())), path)


CORRUPT = {
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "not a readable Parquet chunk"),
    "random bytes": (lambda p: p.write_bytes(random.Random(1).randbytes(3000)), "not a readable Parquet chunk"),
    "zero bytes": (lambda p: p.write_bytes(b""), "not a readable Parquet chunk"),
    "wrong schema": (_wrong_schema, "columns run_id, point, replication, seed, window missing"),
    "float run ids": (_float_run_ids, "column run_id must hold whole numbers"),
    "text metric": (_text_metric, "metric column evidence_lost must be numeric"),
}


@pytest.mark.parametrize("damage", CORRUPT)
def test_a_damaged_chunk_is_exit_2_naming_the_file_for_every_reader_and_for_resume(store, damage, capsys):
    spoil, message = CORRUPT[damage]
    spoil(part(store, 1))
    refused(store, capsys, "part-00001.parquet", message)
    path = store.parent / "tiny.toml"
    assert main(["sweep", str(path), "--out", str(store), "--workers", "1", "--resume"]) == 2
    assert "part-00001.parquet" in capsys.readouterr().err
    assert part(store, 1).exists()  # refused, not repaired: the user decides


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def _edit(out: Path, change) -> None:
    manifest = _manifest(out)
    change(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))


def _rename_factor(m: dict) -> None:
    m["design"]["factors"] = ["window_days"]
    m["design"]["points"] = [{"window_days": p["window"]} for p in m["design"]["points"]]


def _fewer_points(m: dict) -> None:
    m["design"]["points"] = m["design"]["points"][:1]
    m["design"]["runs"] = 2


def _shift_run_ids(out: Path) -> None:
    for path in (part(out, 0), part(out, 1)):
        table = pq.read_table(path)
        pq.write_table(table.set_column(0, "run_id", pa.compute.add(table["run_id"], 8)), path)


def _other_point_values(m: dict) -> None:
    m["design"]["points"][1]["window"] = 730


MANIFESTS = {
    "a JSON list": (lambda out: (out / "manifest.json").write_text("[1, 2]"), "manifest.json: not a tipline sweep manifest"),
    "a JSON string": (lambda out: (out / "manifest.json").write_text('"x"'), "manifest.json: not a tipline sweep"),
    "no design": (lambda out: _edit(out, lambda m: m.pop("design")), "manifest.json: design: a table is required"),
    "design null": (lambda out: _edit(out, lambda m: m.update(design=None)), "manifest.json: design: a table is required"),
    "renamed factor": (lambda out: _edit(out, _rename_factor), "part-00000.parquet: column window_days missing"),
    "fewer points": (lambda out: _edit(out, _fewer_points), "point outside the design's 0..0 (2 such rows"),
    "points and runs disagree": (lambda out: _edit(out, lambda m: m["design"].update(runs=2)),
                                 "manifest.json: design.runs: 2, but 2 points x 2 replications = 4"),
    "shifted run ids": (_shift_run_ids, "replications + replication; 2 such rows)"),  # run_id 8 should be 0 ...
    "other factor values": (lambda out: _edit(out, _other_point_values),
                            "window = 365, but design point 1 has 730 in the manifest"),
    "other seeds": (lambda out: _edit(out, lambda m: m["design"].update(seeds=[1, 2])),
                    "part-00000.parquet: run_id 0: seed"),
}


@pytest.mark.parametrize("case", MANIFESTS)
def test_a_manifest_that_does_not_describe_the_rows_is_exit_2_naming_the_file(store, case, capsys):
    spoil, message = MANIFESTS[case]
    spoil(store)
    refused(store, capsys, message)


# ------------------------------------------------------------------------- 3. every state a kill can leave


def _only_half_manifest(out: Path) -> None:
    out.mkdir()
    (out / ".manifest.json.tmp").write_text('{"format": "tipline-sw')


def _lock_and_half_manifest(out: Path) -> None:
    _only_half_manifest(out)
    (out / ".lock").write_text("")


def _manifest_without_results(out: Path, path: Path) -> None:
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--dry-run"]) == 0
    run_sweep(path, out, workers=1)
    shutil.rmtree(out / "results")


KILL_STATES = {
    "nothing yet": lambda out, path: None,
    "empty directory": lambda out, path: out.mkdir(),
    "half-written manifest": lambda out, path: _only_half_manifest(out),
    "lock and half-written manifest": lambda out, path: _lock_and_half_manifest(out),
    "manifest, no results": _manifest_without_results,
}


@pytest.mark.parametrize("state", KILL_STATES)
def test_resume_continues_from_every_state_a_kill_can_leave(tmp_path, state, capsys):
    path = write_toml(tmp_path / "tiny.toml", tiny_sweep())
    out = tmp_path / "out"
    KILL_STATES[state](out, path)
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--resume"]) == 0
    assert "4 of 4 runs stored" in capsys.readouterr().out
    assert same(load_results(out), run_sweep(path, workers=1))
    assert not (out / ".manifest.json.tmp").exists()


def test_a_directory_of_something_else_is_refused_and_left_untouched(tmp_path, capsys):
    path = write_toml(tmp_path / "tiny.toml", tiny_sweep())
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    for resume in ([], ["--resume"]):
        assert main(["sweep", str(path), "--out", str(out), "--workers", "1", *resume]) == 2
        assert "exists and is not empty" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # no lock file left in the user's directory


# ----------------------------------------------------------------------------- 4. one writer at a time


SCRIPT = """
import sys
from model.sweeps import run_sweep
from tests.test_store_integrity import slow_simulate, tiny_sweep
run_sweep(tiny_sweep(windows=tuple(range(30, 330, 10)), replications=1), sys.argv[1], workers=1,
          simulate=slow_simulate, chunk_rows=1)
"""


def start_slow_sweep(out: Path) -> subprocess.Popen:
    """A sweep of 30 slow fake runs (7.5 s) in another process; returns once it has stored a chunk."""
    child = subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not list((out / "results").glob("part-*.parquet")):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the sweep stored no chunk in time"
        time.sleep(0.02)
    return child


def test_a_second_writer_is_refused_naming_the_owner_and_the_lock_dies_with_its_process(tmp_path, capsys):
    out = tmp_path / "out"
    child = start_slow_sweep(out)
    try:
        spec = tiny_sweep(windows=tuple(range(30, 330, 10)), replications=1)
        with pytest.raises(SweepError, match=f"in use by another tipline sweep \\(pid {child.pid} on "):
            run_sweep(spec, out, workers=1, simulate=fake_simulate, resume=True)
        second = subprocess.run([sys.executable, "-m", "model", "sweep", str(write_toml(tmp_path / "t.toml", spec)),
                                 "--out", str(out), "--workers", "1", "--resume"], cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
        assert second.returncode == 2 and f"pid {child.pid}" in second.stderr, second.stderr
        assert child.poll() is None  # the first writer goes on
    finally:
        child.kill()  # a crash: the kernel releases the lock
        child.wait()
    frame = run_sweep(spec, out, workers=1, simulate=slow_simulate, resume=True)
    assert sorted(frame["run_id"]) == list(range(30))


def hold_shared(directory: Path) -> int:
    """A reader's probe of DIR/.lock (a shared flock on its own open file description); returns its descriptor."""
    import fcntl

    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def test_a_writer_starting_during_a_readers_probe_waits_for_it_instead_of_refusing(tmp_path):
    import threading

    from model.sweeps.lock import DirectoryLock

    probe = hold_shared(tmp_path)   # held 50 ms here; a real probe holds it for microseconds
    threading.Timer(0.05, os.close, [probe]).start()
    with DirectoryLock(tmp_path) as lock:
        assert lock.held
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()


def test_a_lock_held_by_nobody_on_record_is_refused_after_the_settling_time(tmp_path, monkeypatch):
    from model.sweeps import lock as lock_module

    monkeypatch.setattr(lock_module, "SETTLE_SECONDS", 0.1)
    probe = hold_shared(tmp_path)   # never let go
    try:
        start = time.monotonic()
        with pytest.raises(SweepError, match="owner not recorded yet"):
            lock_module.DirectoryLock(tmp_path)
        assert time.monotonic() - start >= 0.1
    finally:
        os.close(probe)


# --------------------------------------------------------------------------------------------- 5. SIGTERM


def descendants(pid: int) -> set[int]:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a test dependency here
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout.split()
        children: dict[int, list[int]] = {}
        for p, parent in zip(out[::2], out[1::2], strict=True):
            children.setdefault(int(parent), []).append(int(p))
        found, todo = set(), [pid]
        while todo:
            for c in children.get(todo.pop(), []):
                found.add(c)
                todo.append(c)
        return found
    return {p.pid for p in psutil.Process(pid).children(recursive=True)}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent to read its status is gone too
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_sigterm_stops_the_workers_keeps_finished_chunks_and_exits_143(tmp_path):
    spec = tiny_sweep(windows=tuple(range(30, 630, 10)), replications=2,
                      set={**TINY_SET, "run.days": 150, "platforms.X.reports_per_day": 300})  # 120 runs, ~15 s
    path = write_toml(tmp_path / "tiny.toml", spec)
    out = tmp_path / "out"
    child = subprocess.Popen([sys.executable, "-m", "model", "sweep", str(path), "--out", str(out), "--workers", "2",
                              "--chunk-rows", "2"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 60
    while len(list((out / "results").glob("part-*.parquet"))) < 2:
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    family = descendants(child.pid)
    assert len(family) >= 3, family  # the forkserver, two workers (and the resource tracker)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "--resume" in err and "Traceback" not in err
    deadline = time.monotonic() + 10
    while any(alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in family if alive(p)], "processes of the sweep outlived it"
    stored = load_results(out)  # finished chunks kept, every one readable
    assert 0 < len(stored) < 120 and stored["run_id"].is_unique
    assert not list((out / "results").glob(".*"))


# ---------------------------------------------------------------------------------- 6. kill/resume torture


FORK_SERVER = """
import os, sys
import model.model
from model.sweeps import run_sweep
from model.sweeps.designs import design_from
from tests.test_store_integrity import TORTURE, tiny_sweep
design = design_from(TORTURE)
# A sweep of one run, stored: the compiled engine's kernels and the Parquet writer loaded here once, not in every
# forked sweep. Its time (start and storing included) aims the kills.
import tempfile, time
one = design_from(tiny_sweep(windows=(30,), replications=1))
run_sweep(one, tempfile.mkdtemp(), workers=1, chunk_rows=1)
start = time.monotonic()
run_sweep(one, tempfile.mkdtemp(), workers=1, chunk_rows=1)   # warm: the time the kills are aimed with
print(time.monotonic() - start, flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        try:
            run_sweep(design, line.strip(), workers=1, chunk_rows=1, resume=True)
        finally:
            os._exit(0)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(status, flush=True)
"""
#: 24 real (tiny) runs, about 0.05 s each.
TORTURE = tiny_sweep(windows=(30, 60, 90, 180, 365, 730), replications=4)


def test_kill_9_at_random_moments_and_resume_gives_the_uninterrupted_results(tmp_path):
    """SIGKILL a sweep at random moments (from before its directory exists to after its last chunk), 24 times,
    resuming each time; the directory is readable after every kill, and the end equals an uninterrupted run.
    The sweeps are forked from a process that has imported everything and loaded the compiled kernels, so a kill
    costs tenths of a second."""
    start = time.monotonic()
    reference = run_sweep(TORTURE, workers=1)
    per_run = max(0.03, (time.monotonic() - start) / 24)  # this machine's pace, to aim the kills
    out = tmp_path / "out"
    server = subprocess.Popen([sys.executable, "-c", FORK_SERVER], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    first_run = float(server.stdout.readline())   # a one-run sweep in the server: its start and storing included
    rng = random.Random(12)
    kills = landed = 0
    try:
        while kills < 24:
            server.stdin.write(f"{out}\n")
            server.stdin.flush()
            pid = int(server.stdout.readline())
            time.sleep(rng.choice([rng.uniform(0, 0.02), rng.uniform(0, first_run + 6 * per_run)]))
            with contextlib.suppress(ProcessLookupError):   # the sweep had finished and its server had reaped it
                os.kill(pid, signal.SIGKILL)
            status = int(server.stdout.readline())
            kills += 1
            landed += os.WIFSIGNALED(status)  # else the sweep had finished before the kill
            if (out / "manifest.json").exists():
                load_results(out)  # every state a kill leaves verifies
            else:
                assert not out.exists() or {p.name for p in out.iterdir()} <= {".lock", ".manifest.json.tmp"}
    finally:
        server.stdin.close()
        server.wait(timeout=30)
    states = len(load_results(out)) if (out / "manifest.json").exists() else 0
    resumed = run_sweep(TORTURE, out, workers=2, resume=True)  # the rest, in worker processes this time
    assert landed >= 12, f"only {landed} of {kills} kills hit a running sweep"
    assert 0 < states < 24, f"{states} runs stored between the kills: they should land mid-sweep"
    assert len(resumed) == 24 and resumed["run_id"].is_unique and sorted(resumed["run_id"]) == list(range(24))
    assert same(resumed, reference)
    print(f"{kills} kills ({landed} of a running sweep), {states} of 24 runs stored before the final resume, "
          f"{time.monotonic() - start:.1f} s")


# ----------------------------------------------------------------------------------- 7. quiet Dask shutdown


def test_a_good_dask_local_sweep_prints_no_error_even_with_port_8787_taken(tmp_path):
    settled = {**TINY_SET, "law_enforcement.backlog_limit_days": 1}   # warm-up 5 >= 3 limits: no warm-up note either
    path = write_toml(tmp_path / "tiny.toml", tiny_sweep(set=settled))
    with socket.socket() as taken:
        try:
            taken.bind(("0.0.0.0", 8787))
            taken.listen()
        except OSError:
            pass  # taken already: the same test
        done = subprocess.run([sys.executable, "-m", "model", "sweep", str(path), "--out", str(tmp_path / "o"),
                               "--dask-local", "--workers", "2"], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
    assert done.returncode == 0 and "4 of 4 runs stored" in done.stdout, done.stderr
    assert done.stderr == "", done.stderr  # no ERROR, no Traceback, no warning about the dashboard port


# ---------------------------------------------------------------------------------- 8. inputs now refused


def test_negative_rows_and_unknown_sobol_metrics_are_exit_2(store, tmp_path, capsys):
    assert main(["analyze", str(store), "--rows", "-1"]) == 2
    assert "--rows -1: must be 0 or more" in capsys.readouterr().err
    assert main(["analyze", str(store), "--rows", "0"]) == 0
    capsys.readouterr()
    spec = tiny_sweep(design="sobol", samples=4, metrics=["nope"],
                      factors=[{"key": "retention.window_days", "low": 30, "high": 365}])
    path = write_toml(tmp_path / "sobol.toml", spec)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "metrics: 'nope' is not a summary metric" in err and "evidence_lost_rate_us" in err
    assert not (tmp_path / "o").exists()
