"""The duplicate review UI without a browser: the session's navigation, masking and decision
handlers, the widget's buttons, and that a decision made there changes the next resolve run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.config import load_project
from workbench.errors import ConfigError
from workbench.review_ui import ReviewSession, review_widget
from workbench.store import open_store


@pytest.fixture
def demo(demo_source) -> Path:
    """The session's 1,500-contact demo (conftest.py): read only here."""
    return demo_source(1500, 11)


@pytest.fixture
def project(demo_copy) -> Path:
    """A copy of the demo, so decisions made by one test do not reach another."""
    return demo_copy(1500, 11)


HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(60)
"""


def entities(folder: Path) -> dict[str, str]:
    with open_store(load_project(folder), read_only=True) as store:
        return dict(store.rows("SELECT unique_id, entity_id FROM id.members"))


def decisions(folder: Path) -> list[tuple]:
    with open_store(load_project(folder), read_only=True) as store:
        return store.rows(
            "SELECT unique_id_l, unique_id_r, decision, reviewer, note, decided_at "
            "FROM id.review_decisions ORDER BY decided_at"
        )


def test_navigation_stays_within_the_queue(demo):
    session = ReviewSession(demo)
    assert len(session) >= 3
    assert session.position == f"pair 1 of {len(session)}"
    assert session.previous() is False and session.index == 0
    assert session.next() is True and session.position == f"pair 2 of {len(session)}"
    assert session.previous() is True and session.index == 0
    while session.next():
        pass
    assert session.index == len(session) - 1
    assert session.next() is False and session.index == len(session) - 1
    # most uncertain pair first, as `workbench review` lists them
    distances = [abs(p - 0.5) for _, _, p in session.pairs]
    assert distances == sorted(distances)


def test_side_by_side_masks_personal_data_and_flags_differences(demo):
    session = ReviewSession(demo)
    rows = {row.field: row for row in session.side_by_side()}
    assert {"first_name", "last_name"} <= set(rows)
    shown = {
        (field, value)
        for field in ("first_name", "last_name", "email", "phone")
        if field in rows
        for value in (rows[field].left, rows[field].right)
        if value is not None
    }
    assert {field for field, _ in shown} >= {"first_name", "last_name"}  # something to mask
    assert all("***" in value for _, value in shown), shown
    # record ids always differ; a field set on one side only is not flagged
    assert rows["record_id"].differs
    assert not any(r.differs for r in rows.values() if r.left is None or r.right is None)
    view = session.view()
    assert view is not None and view.probability == session.current[2]
    explanation = session.explanation()
    assert explanation is not None and explanation.steps[0].comparison == "prior"
    assert explanation.match_probability == pytest.approx(view.probability, abs=1e-6)


def test_showing_queued_pairs_never_reads_every_record(demo, monkeypatch):
    """The pairs of the review queue are explained from the records the resolution run kept
    for them: no pair, not even the first, builds the matching input of all records, and
    each waterfall adds up to the probability Splink gave the pair over all records."""
    from workbench.resolve import explain, inputs

    def refuse(*args, **kwargs):
        raise AssertionError("showing a pair rebuilt the matching input of all records")

    for name in ("matching_input", "input_frame"):  # the whole input as a polars frame
        monkeypatch.setattr(inputs, name, refuse)
    monkeypatch.setattr(explain, "load_input", refuse)
    session = ReviewSession(demo)
    shown = 0
    while shown < 6:
        view = session.view()
        assert view is not None
        assert view.explanation.match_probability == pytest.approx(view.probability, abs=1e-6)
        shown += 1
        if not session.next():
            break
    assert shown >= 3
    session.close()


def test_kept_records_explain_a_pair_as_every_record_does(demo):
    """The waterfall from the records kept for the queue equals, bar by bar, the one built
    from the matching input of every record; a pair outside the queue needs the latter."""
    from workbench.resolve.explain import PairExplainer

    project = load_project(demo)
    with open_store(project, read_only=True) as store:
        queued = store.rows(
            "SELECT unique_id_l, unique_id_r FROM id.review_queue WHERE object = 'contacts' "
            "ORDER BY 1, 2 LIMIT 5"
        )
        kept = store.scalar("SELECT count(*) FROM id.review_records_contacts")
        ends = store.scalar(
            "SELECT count(DISTINCT u) FROM (SELECT unique_id_l AS u FROM id.review_queue "
            "UNION ALL SELECT unique_id_r FROM id.review_queue)"
        )
        outside = store.rows(
            "SELECT unique_id FROM id.members WHERE unique_id NOT IN "
            "(SELECT unique_id FROM id.review_records_contacts) ORDER BY 1 LIMIT 2"
        )
        everything = PairExplainer(project, store, "contacts")
        of_queue = PairExplainer.of_queue(project, store, "contacts")
    assert of_queue is not None and queued
    assert kept == ends  # each record of a queued pair, once
    for left, right in queued:
        assert of_queue.covers(left, right)
        assert of_queue.explain(left, right) == everything.explain(left, right)
    (a,), (b,) = outside
    assert not of_queue.covers(a, b) and everything.covers(a, b)
    assert everything.explain(a, b).steps[0].comparison == "prior"
    of_queue.close()
    everything.close()


def test_after_a_validation_or_erasure_the_pair_is_read_again(project, monkeypatch, capsys):
    """The session keeps the records it explains pairs with between pairs, but not past a
    change of the data: after `workbench validate` (or an erasure) the next pair shown
    reads them again, from the records as they are now (those the resolution run kept
    may be out of date until the next run), and from those kept once resolved again."""
    from workbench.resolve import explain
    from workbench.resolve.explain import PairExplainer

    builds, inputs = [], []
    build, load = PairExplainer.__init__, explain.load_input

    def counted(self, *args, **kwargs):
        builds.append(1)
        build(self, *args, **kwargs)

    monkeypatch.setattr(PairExplainer, "__init__", counted)
    monkeypatch.setattr(explain, "load_input", lambda *a, **k: inputs.append(1) or load(*a, **k))
    session = ReviewSession(project)
    session.view()
    session.next()
    session.view()
    assert builds == [1] and inputs == []  # the kept records
    assert main(["validate", "--project", str(project)]) == 0
    capsys.readouterr()
    session.previous()
    view = session.view()  # shown before, but the data changed since: read again
    assert builds == [1, 1] and inputs == [1]  # every record, as validated now
    assert view is not None
    assert view.explanation.match_probability == pytest.approx(view.probability, abs=1e-6)
    session.next()
    session.view()
    assert builds == [1, 1]  # and kept again while nothing changes
    assert main(["resolve", "--project", str(project)]) == 0
    capsys.readouterr()
    session.reload()
    session.view()
    assert builds == [1, 1, 1] and inputs == [1]  # the records the new run kept
    session.close()


def test_unmasking_needs_the_projects_permission(demo):
    with pytest.raises(ConfigError, match="not allowed"):
        ReviewSession(demo, unmask=True)


@pytest.mark.slow
def test_decisions_in_the_session_change_the_next_resolve_run(project, capsys):
    session = ReviewSession(project)
    before = entities(project)
    apart = next(p for p in session.pairs if before[p[0]] != before[p[1]])
    # a pair the model merged (an entity of two records), put on the reviewer's list
    by_entity: dict[str, list[str]] = {}
    for unique_id, entity in sorted(before.items()):
        by_entity.setdefault(entity, []).append(unique_id)
    merged = next(tuple(ids) for ids in by_entity.values() if len(ids) == 2)
    session.pairs.append((*merged, 0.99))

    session.index = session.pairs.index(apart)
    assert session.decide(match=True, note=" same person, new email ", who="ana") == "match"
    assert session.outcomes[apart[:2]] == "match"
    [row] = decisions(project)
    assert row[:5] == (*sorted(apart[:2]), "match", "ana", "same person, new email")
    assert row[5] is not None  # when

    session.index = len(session) - 1
    assert session.decide(match=False, note="", who="ana") == "no_match"
    assert session.index == len(session) - 1  # nothing after the last pair
    assert decisions(project)[-1][2:5] == ("no_match", "ana", None)

    assert main(["resolve", "--project", str(project)]) == 0
    after = entities(project)
    assert after[apart[0]] == after[apart[1]]  # joined by the reviewer
    assert after[merged[0]] != after[merged[1]]  # split apart by the reviewer
    # what resolve says is waiting is what the review lists: decided pairs are not
    waiting = len(ReviewSession(project, limit=10**6))
    assert f"Pairs waiting for review: {waiting:,} " in " ".join(capsys.readouterr().out.split())


def controls_of(box) -> dict:
    return {b.description: b for row in box.children for b in getattr(row, "children", ())}


def test_widget_buttons_navigate_and_record_decisions(project):
    box = review_widget(project)
    header, table, chart = box.children[:3]
    status = box.children[-1]
    buttons = controls_of(box)
    assert set(buttons) >= {"Previous", "Next", "Match", "Not a match", "Skip", "Note"}
    assert "pair 1 of" in header.value and "probability" in header.value
    assert "***" in table.value and "background" in table.value  # masked, differences marked
    assert "application/vnd.plotly.v1+json" in chart.outputs[0]["data"]
    assert buttons["Previous"].disabled

    buttons["Previous"].click()
    assert status.value == "Already at the first pair."
    buttons["Next"].click()
    assert "pair 2 of" in header.value and status.value.startswith("pair 2 of")
    buttons["Skip"].click()
    assert status.value.startswith("Skipped") and "pair 3 of" in header.value
    buttons["Note"].value = "<b>namesakes</b>"
    buttons["Reviewer"].value = "ben"
    buttons["Not a match"].click()
    assert status.value.startswith("Recorded:") and "are different" in status.value
    assert buttons["Note"].value == ""
    [row] = decisions(project)
    assert row[2:5] == ("no_match", "ben", "<b>namesakes</b>")
    buttons["Previous"].click()
    assert "different" in header.value  # the outcome is shown when going back


def test_widget_shows_errors_in_the_status_line(project, tmp_path):
    warehouse = load_project(project).warehouse_path
    holder = subprocess.Popen(  # a `workbench` command writing meanwhile, in another process
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        box = review_widget(project)
    finally:
        holder.kill()
        holder.wait()
    status = box.children[-1]
    # the lock is named, with its holder: not any failure to open the warehouse
    assert f"in use by PID {holder.pid}" in status.value, status.value
    assert controls_of(box)["Match"].disabled

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "workbench.yaml").write_text((project / "workbench.yaml").read_text())
    box = review_widget(empty)
    assert "Fix:" in box.children[-1].value


@pytest.mark.slow
def test_notebook_runs_with_the_demo(demo, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    root = Path(__file__).parents[1]
    notebook = nbformat.read(root / "notebooks" / "review_duplicates.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code")
    [parameters] = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    parameters.source = f"project = {str(demo)!r}\nobject_name = 'contacts'"
    nbclient.NotebookClient(notebook, timeout=60, kernel_name="python3").execute(cwd=str(tmp_path))
    widget = notebook.cells[-1].outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in widget
