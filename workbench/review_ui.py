"""Duplicate review in JupyterLab: the review queue as an ipywidgets UI.

:class:`ReviewSession` is the logic, without widgets: it walks the pairs waiting for review
(``workbench review``), shows both records side by side (personal data masked unless the
project allows unmasking) with the match probability and its waterfall, and records
decisions with the same function as ``workbench review decide``, so the next
``workbench resolve`` follows them. :func:`review_widget` puts buttons on it.

The warehouse is opened for each action and closed right after, so the notebook never
keeps DuckDB's writer lock from a ``workbench`` command running meanwhile. A decision waits
up to :data:`DECISION_WAIT` seconds for another process using the warehouse (a command, or a
report notebook's cell while it reads); report notebooks hold nothing while idle.

Typical use in a notebook::

    from workbench.review_ui import review_widget
    review_widget("../data/demo", "contacts")
"""

from __future__ import annotations

import getpass
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from workbench import audit
from workbench.config import load_project
from workbench.errors import WorkbenchError
from workbench.privacy import check_unmask, mask_rules, mask_value
from workbench.report.display import figure_bundle
from workbench.report.model_charts import waterfall_figure
from workbench.resolve.explain import Explanation, PairExplainer
from workbench.resolve.review import Decision, pending, record_decision, side_by_side
from workbench.store import Store, open_store

if TYPE_CHECKING:
    import ipywidgets
    import plotly.graph_objects as go

DIFFERS_STYLE = "background:#fff3cd"
OUTCOMES = {"match": "the same", "no_match": "different", "skipped": "skipped"}
DECISION_WAIT = 5.0  # seconds a decision waits for the warehouse before "in use"


@dataclass(frozen=True)
class FieldRow:
    """One field of both records: the values as shown (masked unless unmasked) and whether
    the underlying values differ (compared before masking)."""

    field: str
    left: str | None
    right: str | None
    differs: bool


@dataclass(frozen=True)
class PairView:
    """Everything shown about one pair."""

    left: str
    right: str
    probability: float
    fields: list[FieldRow]
    explanation: Explanation


# audited actions after which the records or the model may differ from what a session read
DATA_CHANGES = ["validate", "resolve", "erase", "retention", "restore"]


class ReviewSession:
    """The review queue of one object of a project, one pair at a time.

    Args:
        project_dir: the project folder (holding ``workbench.yaml``).
        object: the canonical object whose pairs are reviewed (default: the pack's object
            of people, contacts).
        unmask: show personal data unmasked; refused (:class:`~workbench.errors.ConfigError`)
            unless the project sets ``privacy.allow_unmask: true``.
        limit: most pairs loaded, most uncertain first.

    The queue is read once (and again by :meth:`reload`); pairs decided in this session
    stay in it, with their outcome, so a reviewer can go back and change their mind.

    Example::

        session = ReviewSession("data/demo")
        view = session.view()          # fields side by side, probability, waterfall
        session.decide(match=False, note="namesakes", who="ana")  # moves to the next pair
    """

    def __init__(
        self,
        project_dir: Path | str = ".",
        object: str | None = None,
        *,
        unmask: bool = False,
        limit: int = 500,
    ) -> None:
        self.project = load_project(Path(project_dir))
        self.object = object or self.project.person_object()
        self.mask = check_unmask(self.project, unmask, what="review_ui")
        self.limit = limit
        self.pairs: list[tuple[str, str, float]] = []
        self.index = 0
        self.outcomes: dict[tuple[str, str], str] = {}
        self._views: dict[tuple[str, str], PairView] = {}
        self._explainer: PairExplainer | None = None
        self._built_at = 0  # the newest data-changing audit entry when the explainer was built
        self.reload()

    # -- the queue -------------------------------------------------------------------------
    def reload(self) -> None:
        """Read the pairs still waiting for a decision; start again at the first one.
        The model is read again too (a `workbench resolve` may have run meanwhile)."""
        with self._store() as store:
            queue = pending(store, self.object, self.limit)
        self.close()
        self.pairs = [(left, right, prob) for left, right, prob, _ in queue.iter_rows()]
        self.index = 0
        self.outcomes = {}
        self._views = {}

    def close(self) -> None:
        """Free the model and matching input kept for the waterfalls (read again when a
        pair is shown next)."""
        if self._explainer is not None:
            self._explainer.close()
            self._explainer = None

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def current(self) -> tuple[str, str, float] | None:
        """The pair shown: left id, right id, match probability (None if the queue is empty)."""
        return self.pairs[self.index] if self.pairs else None

    @property
    def position(self) -> str:
        """Where the reviewer is, as "pair 3 of 22"."""
        if not self.pairs:
            return "no pairs waiting for review"
        return f"pair {self.index + 1} of {len(self.pairs)}"

    @property
    def outcome(self) -> str | None:
        """What happened to the current pair in this session: match, no_match, skipped."""
        pair = self.current
        return self.outcomes.get(pair[:2]) if pair else None

    def next(self) -> bool:
        """Go to the next pair; False (and stay) at the last one."""
        if self.index + 1 >= len(self.pairs):
            return False
        self.index += 1
        return True

    def previous(self) -> bool:
        """Go to the previous pair; False (and stay) at the first one."""
        if self.index == 0:
            return False
        self.index -= 1
        return True

    def skip(self) -> bool:
        """Leave the current pair undecided and go to the next one."""
        pair = self._require_pair()
        self.outcomes.setdefault(pair[:2], "skipped")
        return self.next()

    # -- what is shown ---------------------------------------------------------------------
    def view(self) -> PairView | None:
        """The current pair: both records side by side, probability and waterfall.

        The first pair shown reads the model and the records the latest resolution run
        kept for its review queue (see :class:`~workbench.resolve.explain.PairExplainer`;
        a pair outside them has the matching input of every record built once); every pair
        then reads only its two records. After a validation, resolution, erasure, retention
        run or restore (told by the audit trail) both are read again, so an erased person is
        not shown from memory and the waterfall follows the current model."""
        pair = self.current
        if pair is None:
            return None
        left, right, probability = pair
        with self._store() as store:
            changed = audit.latest_entry(store, DATA_CHANGES)
            if changed != self._built_at:  # validated, resolved or erased meanwhile
                self.close()
                self._views = {}
            if (left, right) not in self._views:
                fields = self._fields(store, left, right, probability)
                explanation = self._explainer_of(store, left, right).explain(left, right)
                self._built_at = changed
                self._views[left, right] = PairView(left, right, probability, fields, explanation)
        return self._views[left, right]

    def _explainer_of(self, store: Store, left: str, right: str) -> PairExplainer:
        """The explainer kept for the session: first the one of the review queue's records
        (:meth:`~workbench.resolve.explain.PairExplainer.of_queue`, built in a moment), and
        the one of every record once a pair is not in the queue the latest run kept."""
        if self._explainer is None:
            self._explainer = PairExplainer.of_queue(self.project, store, self.object)
        if self._explainer is None or not self._explainer.covers(left, right):
            self.close()
            self._explainer = PairExplainer(self.project, store, self.object)
        return self._explainer

    def side_by_side(self) -> list[FieldRow]:
        """The current pair's fields (those set on either side), flagged where they differ."""
        view = self.view()
        return view.fields if view else []

    def explanation(self) -> Explanation | None:
        """The current pair's match-weight waterfall under the latest model."""
        view = self.view()
        return view.explanation if view else None

    def _fields(self, store: Store, left: str, right: str, probability: float) -> list[FieldRow]:
        one = pl.DataFrame(
            {"unique_id_l": [left], "unique_id_r": [right], "match_probability": [probability],
             "match_weight": [None]},
            schema_overrides={"match_weight": pl.Float64},
        )  # fmt: skip
        records = side_by_side(store, self.object, one)
        rules = mask_rules(self.project.dictionary.object(self.object)) if self.mask else {}
        rows = []
        for field, (a, b) in records[0]["fields"].items():
            differs = a is not None and b is not None and a != b  # as `workbench review`
            if field in rules:
                a, b = (_str(mask_value(v, *rules[field])) for v in (a, b))
            rows.append(FieldRow(field, a, b, differs))
        return rows

    # -- decisions -------------------------------------------------------------------------
    def decide(self, match: bool, note: str | None = None, who: str | None = None) -> Decision:
        """Record a decision on the current pair (as ``workbench review decide`` does) and
        move to the next pair. ``who`` defaults to the user name; an empty note is none.
        The next ``workbench resolve`` links (match) or separates (no match) the two."""
        left, right, _ = self._require_pair()
        decision: Decision = "match" if match else "no_match"
        with self._store(write=True) as store:
            record_decision(
                store,
                self.object,
                left,
                right,
                decision,
                project=self.project,
                reviewer=who or getpass.getuser(),
                note=(note or "").strip() or None,
            )
        self.outcomes[left, right] = decision
        self.next()
        return decision

    # -- helpers ---------------------------------------------------------------------------
    def _require_pair(self) -> tuple[str, str, float]:
        pair = self.current
        if pair is None:
            raise WorkbenchError(
                "No pairs are waiting for review.",
                fix="Run `workbench resolve` after loading new data, then reload.",
            )
        return pair

    def _store(self, *, write: bool = False) -> Store:
        if write:
            return open_store(self.project, wait=DECISION_WAIT)
        return open_store(self.project, read_only=True)


def _str(value: object) -> str | None:
    return None if value is None else str(value)


# -- rendering ---------------------------------------------------------------------------------
def fields_html(view: PairView) -> str:
    """Both records as an HTML table, differing fields highlighted; values escaped."""
    head = (
        "<tr><th style='text-align:left'>field</th>"
        f"<th style='text-align:left'>{html.escape(view.left)}</th>"
        f"<th style='text-align:left'>{html.escape(view.right)}</th></tr>"
    )
    body = "".join(
        (f"<tr style='{DIFFERS_STYLE}' title='differs'>" if row.differs else "<tr>")
        + f"<td>{html.escape(row.field)}</td><td>{html.escape(row.left or '')}</td>"
        f"<td>{html.escape(row.right or '')}</td></tr>"
        for row in view.fields
    )
    return f"<table style='border-collapse:collapse'>{head}{body}</table>"


def _plotly_output(figure: go.Figure) -> dict[str, Any]:
    """A display_data output JupyterLab renders with its plotly extension (no kernel needed)."""
    return {"output_type": "display_data", "data": figure_bundle(figure), "metadata": {}}


def review_widget(
    project_dir: Path | str = ".", object: str | None = None, unmask: bool = False
) -> ipywidgets.VBox:
    """An ipywidgets UI over the review queue of ``object`` (default: the pack's object of
    people, contacts): position and probability,
    both records side by side (differing fields highlighted, personal data masked unless
    ``unmask``), the match-weight waterfall, Previous / Next / Match / Not a match / Skip
    and an optional note. Decisions go to the same table as ``workbench review decide``.

    Problems (warehouse in use, nothing resolved yet) show in the status line.
    """
    import ipywidgets as w

    header = w.HTML()
    table = w.HTML()
    chart = w.Output()
    note = w.Text(placeholder="note (optional)", description="Note")
    reviewer = w.Text(value=getpass.getuser(), description="Reviewer")
    status = w.HTML()
    buttons = {
        "previous": w.Button(description="Previous", icon="arrow-left"),
        "next": w.Button(description="Next", icon="arrow-right"),
        "match": w.Button(description="Match", button_style="success"),
        "no_match": w.Button(description="Not a match", button_style="danger"),
        "skip": w.Button(description="Skip"),
    }
    box = w.VBox(
        [header, table, chart, w.HBox(list(buttons.values())), w.HBox([note, reviewer]), status]
    )

    def show_error(err: WorkbenchError) -> None:
        status.value = f"<span style='color:#b00020'>{_lines(err.message)}</span>"

    try:
        session = ReviewSession(project_dir, object, unmask=unmask)
    except WorkbenchError as err:
        for button in buttons.values():
            button.disabled = True
        show_error(err)
        return box

    def render() -> None:
        view = session.view()
        buttons["previous"].disabled = session.index == 0
        buttons["next"].disabled = session.index + 1 >= len(session)
        for name in ("match", "no_match", "skip"):
            buttons[name].disabled = view is None
        if view is None:
            header.value = "<b>No pairs are waiting for review.</b>"
            table.value = ""
            chart.outputs = ()
            return
        done = session.outcome
        header.value = (
            f"<b>{session.position}</b> · {html.escape(view.left)} vs "
            f"{html.escape(view.right)} · match probability <b>{view.probability:.3f}</b>"
            + (f" · <i>{OUTCOMES[done]}</i>" if done else "")
        )
        table.value = fields_html(view)
        chart.outputs = (_plotly_output(waterfall_figure(view.explanation)),)

    def action(run: Callable[[], str]) -> Callable[[Any], None]:
        def handler(_button: Any) -> None:
            try:
                message = run()
                render()
            except WorkbenchError as err:
                show_error(err)
                return
            status.value = html.escape(message)

        return handler

    def move(step: Callable[[], bool], edge: str) -> Callable[[], str]:
        return lambda: session.position if step() else f"Already at the {edge} pair."

    def decide(match: bool) -> Callable[[], str]:
        def run() -> str:
            pair = session.current
            session.decide(match, note.value, reviewer.value.strip() or None)
            assert pair is not None  # decide raised otherwise
            note.value = ""
            verdict = "the same" if match else "different"
            return (
                f"Recorded: {pair[0]} and {pair[1]} are {verdict}. "
                "Run `workbench resolve` to apply."
            )

        return run

    def skip() -> str:
        pair = session.current
        session.skip()
        assert pair is not None  # skip raised otherwise
        return f"Skipped {pair[0]} vs {pair[1]}."

    buttons["previous"].on_click(action(move(session.previous, "first")))
    buttons["next"].on_click(action(move(session.next, "last")))
    buttons["match"].on_click(action(decide(True)))
    buttons["no_match"].on_click(action(decide(False)))
    buttons["skip"].on_click(action(skip))
    try:
        render()
        status.value = html.escape(
            f"{len(session)} pairs waiting for review; personal data "
            + ("masked." if session.mask else "unmasked.")
        )
    except WorkbenchError as err:
        show_error(err)
    return box


def _lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())
