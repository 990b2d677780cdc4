"""Ctrl-C (SIGINT): DuckDB turns the KeyboardInterrupt that arrives during a statement into
``RuntimeError('Query interrupted')``; Workbench treats it as the interruption it is, not as
a bug: no traceback, exit 130, and a ledger that says what was kept (a load whose COMMIT had
completed is 'loaded' and not loaded again; one that had not is loaded again)."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.cli import main
from workbench.ingest import ingest, list_loads, load_file


class CtrlC:
    """A connection that receives Ctrl-C at the first statement ``when(sql)`` holds, after
    running it (``after=True``, as at a COMMIT that completed) or instead of it."""

    def __init__(self, con: Any, when: str, *, after: bool) -> None:
        self.con, self.when, self.after, self.fired = con, when, after, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    def execute(self, sql: str, *params: Any) -> Any:
        if self.fired or not sql.startswith(self.when):
            return self.con.execute(sql, *params)
        self.fired = True
        result = self.con.execute(sql, *params) if self.after else None
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:  # as DuckDB's Python client raises it
            raise RuntimeError("Query interrupted") from exc
        return result


CONFIG = """
sources:
  people:
    system: crm
    object: contacts
    path: p.csv
    columns:
      record_id: id
      email: email
"""
PEOPLE = "id,email\n1,a@x.com\n2,b@x.com\n"


def _interrupted_load(make_project, store_of, tmp_path, statement: str, *, after: bool):
    """A project whose first load of p.csv is ended by Ctrl-C at ``statement`` (``after``
    it ran, or instead of it); its store, answering again."""
    project = make_project(CONFIG, {"p.csv": PEOPLE})
    store = store_of(project)
    con = store.con
    store.con = CtrlC(con, statement, after=after)  # type: ignore[assignment]
    with pytest.raises(KeyboardInterrupt):
        load_file(project, store, "people", tmp_path / "p.csv")
    store.con = con
    return project, store


def test_ctrl_c_after_the_load_committed_keeps_it_loaded_and_counted_once(
    make_project, store_of, tmp_path
):
    project, store = _interrupted_load(make_project, store_of, tmp_path, "COMMIT", after=True)
    assert [(r.status, r.rows_read, r.rows_loaded) for r in list_loads(store)] == [("loaded", 2, 2)]
    assert load_file(project, store, "people", tmp_path / "p.csv").status == "unchanged"
    assert store.scalar('SELECT count(*) FROM raw."people"') == 2


def test_ctrl_c_before_the_commit_leaves_nothing_and_the_file_loads_again(
    make_project, store_of, tmp_path
):
    project, store = _interrupted_load(
        make_project, store_of, tmp_path, "UPDATE meta.loads SET", after=False
    )
    assert not store.table_exists("raw", "people")  # rolled back with the load
    assert [r.status for r in list_loads(store)] == ["running"]  # as after a kill
    assert [r.status for r in ingest(project, store).loads] == ["loaded"]
    assert [r.status for r in list_loads(store)] == ["loaded", "interrupted"]
    assert store.scalar('SELECT count(*) FROM raw."people"') == 2


def test_ctrl_c_ends_the_command_with_one_line_and_exit_130(
    make_project, monkeypatch, capsys, tmp_path
):
    make_project(CONFIG, {"p.csv": PEOPLE})

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("workbench.ingest.loader.describe_file", interrupted)
    assert main(["ingest", "--project", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert "Interrupted" in err and "Traceback" not in err
