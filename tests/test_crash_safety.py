"""Crash and concurrency safety: SIGKILL at any point, and a second writer.

A run killed during ingest (while loading, while DuckDB checkpoints its WAL) or resolve
leaves a warehouse whose ledger, raw, staging and identity tables agree with each other;
rerunning completes with the same result as a run that was never interrupted. A second
writer fails at once naming the PID that holds the warehouse, or waits with ``--wait``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

WORKBENCH = [sys.executable, "-m", "workbench.cli"]
DATA = Path(__file__).parent / "data" / "three_systems"
STAGE_SCHEMAS = ("raw", "stg", "core", "quar", "meta", "dq", "id")


def workbench(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*WORKBENCH, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def kill_when(args: list[str], ready: Callable[[], bool], timeout: float = 120) -> bool:
    """Run ``workbench ARGS`` and SIGKILL it once ``ready()``; False if it ended first."""
    proc = subprocess.Popen(
        [*WORKBENCH, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if ready():
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.003)
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def load_in_flight(warehouse: Path, after: int) -> Callable[[], bool]:
    """Mid-load: once the WAL holds ``after`` bytes, the next commit of 0.4-4 KB is the
    ledger's 'running' row of a file whose rows are now being inserted (a load commits far
    more, a sequence step about 70 bytes)."""
    wal = Path(f"{warehouse}.wal")
    last = [size(wal)]

    def ready() -> bool:
        now, before = size(wal), last[0]
        last[0] = now
        return now > after and 400 < now - before < 4000

    return ready


def checkpointing(warehouse: Path) -> Callable[[], bool]:
    """While DuckDB copies the WAL into the database file: the file grows, the WAL is there."""
    wal = Path(f"{warehouse}.wal")
    start = size(warehouse)
    return lambda: size(wal) > 0 and size(warehouse) > max(start, 12288)


def after_wal_appears(warehouse: Path, seconds: float) -> Callable[[], bool]:
    """``seconds`` after the process first committed something (mid-computation)."""
    wal = Path(f"{warehouse}.wal")
    seen: list[float] = []

    def ready() -> bool:
        if not seen and size(wal) > 0:
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] > seconds

    return ready


# -- what "consistent" and "the same result" mean ----------------------------------------
def tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    return con.sql("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2").fetchall()


def assert_consistent(warehouse: Path) -> None:
    """Every committed load is whole: the ledger's counts match raw and rejects, staging
    holds only current loads, identity members belong to a recorded run."""
    if not warehouse.exists():
        return
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = set(tables(con))
        if ("meta", "loads") not in names:
            return
        loads = {
            r[0]: r[1:]
            for r in con.sql(
                "SELECT load_id, source, status, rows_loaded, rows_rejected, is_current "
                "FROM meta.loads"
            ).fetchall()
        }
        assert {v[1] for v in loads.values()} <= {"loaded", "failed", "running", "interrupted"}
        for schema, name in names:
            if schema != "raw":
                continue
            for load_id, count in con.sql(
                f'SELECT _load_id, count(*) FROM raw."{name}" GROUP BY 1'
            ).fetchall():
                source, status, loaded, _, _ = loads[load_id]
                assert (source, status, count) == (name, "loaded", loaded)
        for load_id, (source, status, loaded, rejected, _) in loads.items():
            if status == "loaded":
                raw = con.sql(
                    f'SELECT count(*) FROM raw."{source}" WHERE _load_id = $1', params=[load_id]
                ).fetchone()
                assert raw == (loaded,)
                quarantined = con.sql(
                    "SELECT count(*) FROM quar.ingest_rejects WHERE load_id = $1",
                    params=[load_id],
                ).fetchone()
                assert quarantined == (rejected,)
        current = {k for k, v in loads.items() if v[4]}
        for schema, name in names:
            if schema == "stg":
                staged = con.sql(f'SELECT DISTINCT _load_id FROM stg."{name}"').fetchall()
                assert {r[0] for r in staged} <= current
        # a source's staging state says the rows it has staged (written in one transaction)
        state = con.sql("SELECT source, rows_staged FROM meta.staging_state").fetchall()
        for source, rows in state:
            objects = con.sql(
                "SELECT DISTINCT object FROM meta.loads WHERE source = $1", params=[source]
            ).fetchall()
            found = 0
            for (obj,) in objects:
                if ("stg", obj) in names:
                    one = con.sql(
                        f'SELECT count(*) FROM stg."{obj}" WHERE _source = $1', params=[source]
                    ).fetchone()
                    found += one[0] if one else 0
            assert found == rows, source
        if ("id", "members") in names:
            orphans = con.sql(
                "SELECT count(*) FROM id.members WHERE run_id NOT IN (SELECT run_id FROM id.runs)"
            ).fetchone()
            assert orphans == (0,)


def outcome(warehouse: Path) -> dict[str, object]:
    """What a run produced, without timings, paths or interrupted attempts."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        counts = {
            f"{s}.{t}": con.sql(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()
            for s, t in tables(con)
            if s in STAGE_SCHEMAS and f"{s}.{t}" != "meta.loads"
        }
        latest_run = con.sql(
            "SELECT object, records, entities, pairs_scored FROM id.runs "
            "ORDER BY run_id DESC LIMIT 1"
        ).fetchall()
        ledger = sorted(
            con.sql(
                "SELECT source, file_name, status, rows_read, rows_loaded, rows_rejected, "
                "is_current FROM meta.loads WHERE status <> 'interrupted'"
            ).fetchall()
        )
        members = sorted(con.sql("SELECT object, unique_id, entity_id FROM id.members").fetchall())
    return {"counts": counts, "ledger": ledger, "members": members, "run": latest_run}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo project run once, uninterrupted, by `workbench demo` (the reference)."""
    root = tmp_path_factory.mktemp("crash") / "reference"
    done = workbench("demo", "--project", str(root), "--contacts", "2000")
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_ingest_and_resolve_recover_to_the_uninterrupted_result(
    demo: Path, tmp_path: Path
) -> None:
    project = tmp_path / "killed"
    # the project's configuration and exports, not its warehouse nor the warehouse's audit
    # head in .workbench (a warehouse gone while the head says entries were written is an
    # audit gap, recorded as such)
    shutil.copytree(demo, project, ignore=shutil.ignore_patterns("data", ".workbench"))
    warehouse = project / "data" / "warehouse.duckdb"
    p = ["--project", str(project)]

    # ingest: killed after its first files are committed, then while checkpointing
    assert kill_when(["ingest", *p], load_in_flight(warehouse, 250_000)), "ended too soon"
    assert_consistent(warehouse)
    assert kill_when(["ingest", *p], checkpointing(warehouse)), "ended too soon"
    assert_consistent(warehouse)
    done = workbench("ingest", *p)
    assert done.returncode == 0, done.stderr
    assert_consistent(warehouse)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = dict(con.sql("SELECT status, count(*) FROM meta.loads GROUP BY 1").fetchall())
    assert statuses.get("interrupted") == 1 and "running" not in statuses

    # validation: killed once its staging has committed something (a source staged)
    assert kill_when(["validate", *p], after_wal_appears(warehouse, 0.0)), "ended too soon"
    assert_consistent(warehouse)
    done = workbench("validate", *p)
    assert done.returncode == 0, done.stderr
    assert "Staged from the loaded data first" in done.stdout

    # resolve: killed while Splink trains (its results are written in one transaction)
    assert kill_when(["resolve", *p], after_wal_appears(warehouse, 1.0))
    assert_consistent(warehouse)
    done = workbench("resolve", *p)
    assert done.returncode == 0, done.stderr
    assert_consistent(warehouse)

    expected = outcome(demo / "data" / "warehouse.duckdb")
    got = outcome(warehouse)
    assert got["ledger"] == expected["ledger"]
    assert got["counts"] == expected["counts"]
    assert got["members"] == expected["members"]
    assert got["run"] == expected["run"]


# -- a second writer -----------------------------------------------------------------------
HOLD = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
    "c.execute('CREATE TABLE IF NOT EXISTS main.holder AS SELECT 42 AS x'); "
    "print('ready', flush=True); time.sleep(float(sys.argv[2])); c.close()"
)


def hold(warehouse: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding the warehouse open as a writer for ``seconds``."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
    return holder


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    shutil.copytree(DATA, tmp_path / "p")
    return tmp_path / "p"


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "command",
    [["ingest"], ["resolve"], ["validate"], ["ledger"], ["kpi"], ["erase", "--email", "a@b.de"]],
)
def test_second_process_fails_at_once_naming_the_holder(small_project: Path, command) -> None:
    warehouse = small_project / "data" / "warehouse.duckdb"
    holder = hold(warehouse, 60)
    try:
        started = time.monotonic()
        done = workbench(*command, "--project", str(small_project))
        assert time.monotonic() - started < 20  # at once, not after a hang
        assert done.returncode == 4
        assert f"The warehouse is in use by PID {holder.pid}" in done.stderr
        # the hint names --wait only where the command accepts it
        assert ("--wait" in done.stderr) == (command[0] in ("ingest", "resolve", "validate"))
        assert "Traceback" not in done.stderr
    finally:
        holder.kill()
        holder.wait()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.sql("SELECT x FROM main.holder").fetchall() == [(42,)]  # not corrupted


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_wait_takes_the_warehouse_when_the_holder_lets_go(small_project: Path) -> None:
    holder = hold(small_project / "data" / "warehouse.duckdb", 2)
    try:
        started = time.monotonic()
        done = workbench("ingest", "--wait", "60", "--project", str(small_project))
        assert done.returncode == 0, done.stderr
        assert time.monotonic() - started >= 1
        assert "loaded 3 of 3 rows" in done.stdout
    finally:
        holder.wait()


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_wait_gives_up_after_its_timeout(small_project: Path) -> None:
    holder = hold(small_project / "data" / "warehouse.duckdb", 60)
    try:
        started = time.monotonic()
        done = workbench("ingest", "--wait", "1.5", "--project", str(small_project))
        elapsed = time.monotonic() - started
        assert done.returncode == 4
        assert f"in use by PID {holder.pid} (waited 1.5 s)" in done.stderr
        assert 1.5 <= elapsed < 30
    finally:
        holder.kill()
        holder.wait()


# -- a validation killed after its audit entry ---------------------------------------------
KILLED_AT_RECONCILE = """
import os, signal, sys
from workbench import pipeline
from workbench.config import load_project
from workbench.store import open_store

def killed(store, run_id, spec):  # metrics are written, the audit entry too: now the kill
    os.kill(os.getpid(), signal.SIGKILL)

pipeline.reconcile = killed
project = load_project(sys.argv[1])
with open_store(project) as store:
    pipeline.run_quality(project, store)
"""


def quality_state(warehouse: Path) -> dict[str, object]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        one = lambda sql: con.sql(sql).fetchone()[0]  # noqa: E731
        return {
            "validation runs": one("SELECT count(*) FROM meta.validation_runs"),
            "latest validation": one("SELECT max(run_id) FROM meta.validation_runs"),
            "metric runs": one("SELECT count(DISTINCT run_id) FROM dq.metrics"),
            "latest metrics": one("SELECT max(run_id) FROM dq.metrics"),
            "reconciliation runs": one("SELECT count(DISTINCT run_id) FROM dq.reconciliation"),
            "validate entries": one("SELECT count(*) FROM meta.audit WHERE action = 'validate'"),
        }


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_validation_killed_before_reconciliation_leaves_no_half_written_run(
    small_project: Path,
) -> None:
    warehouse = small_project / "data" / "warehouse.duckdb"
    assert workbench("ingest", "--project", str(small_project)).returncode == 0
    assert workbench("validate", "--project", str(small_project)).returncode == 0
    before = quality_state(warehouse)
    assert before["validation runs"] == before["metric runs"] == 1
    assert before["validate entries"] == 1

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT_RECONCILE, str(small_project)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # nothing of the killed run: the previous run is still the latest, whole
    assert quality_state(warehouse) == before
    done = workbench("audit", "verify", "--project", str(small_project))
    assert done.returncode == 0 and "intact" in done.stdout, done.stdout + done.stderr

    assert workbench("validate", "--project", str(small_project)).returncode == 0
    after = quality_state(warehouse)
    assert after["validation runs"] == after["metric runs"] == 2
    assert after["latest validation"] == after["latest metrics"]
    assert after["validate entries"] == 2
