"""What a content pack declares (``workbench/packs/<name>/pack.yaml``) and how it is read.

A pack is data, never code: which object holds people, which object is the integration's
own event log, which two money ledgers should agree, where the ROI drivers find their
volumes. The engine reads these declarations; a pack field the project's data does not
have makes the section that needs it say so instead of failing.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import Field, model_validator

from workbench.errors import ConfigError
from workbench.yamlconf import StrictModel, parse_model, read_yaml

PACKS_ROOT = Path(str(resources.files("workbench.packs")))
NONE = "none"  # the pack of a project that brings its whole dictionary and KPIs itself


class RowFilter(StrictModel):
    """Which rows of an object count: ``field`` is one of ``in``, or none of ``not_in``
    (a missing value counts as none of them)."""

    field: str
    in_: tuple[str, ...] | None = Field(None, alias="in")
    not_in: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _one(self) -> RowFilter:
        if (self.in_ is None) == (self.not_in is None):
            raise ValueError("give exactly one of 'in' or 'not_in'")
        return self

    def sql(self, column: str, param: str) -> str:
        """The condition on ``column`` (quoted SQL), its values bound as ``$param``."""
        if self.in_ is not None:
            return f"list_contains(${param}, {column})"
        return f"({column} IS NULL OR NOT list_contains(${param}, {column}))"

    @property
    def values(self) -> list[str]:
        return list(self.in_ if self.in_ is not None else self.not_in or ())


class EventLog(StrictModel):
    """The integration's own log of sync attempts: one row per attempt."""

    object: str
    time: str = Field(description="When the attempt happened")
    status: str = Field(description="Field holding the outcome")
    success: str = Field("success", description="Status of a successful attempt")
    failed: str = Field("failed", description="Status of a failed attempt")
    latency_ms: str | None = Field(None, description="Field holding the latency (ms)")
    event: str | None = Field(None, description="Field naming what was synced (event SLAs)")
    source: str | None = Field(None, description="Field naming the system a change came from")
    target: str | None = Field(None, description="Field naming the system it went to")
    metric: str = Field(description="Data-quality metric: share of attempts that failed")
    metric_title: str
    noun: str = Field(description="What a row is, plural (sync events)")
    kind: str = Field(description="What an attempt is, as one word (sync: sync failures)")

    def fields(self) -> tuple[str, ...]:
        """The fields the service-level measures read."""
        return (self.time, self.status) + ((self.latency_ms,) if self.latency_ms else ())


class AccountKey(StrictModel):
    """How a ledger row finds its account's name: ``ref`` of the row is ``key`` of ``via``,
    whose ``name`` is the account (in the same system only, if ``same_system``)."""

    via: str
    ref: str
    key: str = "record_id"
    name: str
    same_system: bool = False


class Ledger(StrictModel):
    """One side of a reconciliation: the rows of ``object`` that count, their month and
    their base-currency amount."""

    label: str = Field(description="What the rows are, plural (CRM won deals)")
    object: str
    date: str
    amount: str
    filter: RowFilter | None = None
    account: AccountKey | None = None


class Reconciliation(StrictModel):
    """Two ledgers that should agree per month and per account (``left`` is stored in the
    ``crm_*`` columns of ``dq.reconciliation``, ``right`` in ``billing_*``)."""

    title: str
    left: Ledger
    right: Ledger


class Volume(StrictModel):
    """Rows of ``object`` per month by ``time`` (distinct ``per`` values if given), or the
    mean of ``amount`` over them."""

    object: str
    time: str
    per: str | None = None
    amount: str | None = None
    filter: RowFilter | None = None


class RoiSources(StrictModel):
    """Where the CRM-flavoured ROI drivers measure their ``auto`` values."""

    leads: Volume | None = Field(None, description="conversion_uplift: leads per month")
    won_deals: Volume | None = Field(None, description="conversion_uplift: won deal value")
    customers: Volume | None = Field(None, description="churn_reduction: customers")
    events: Volume | None = Field(None, description="failure_reduction: events per month")


class Pack(StrictModel):
    """A content pack: the dictionary, KPIs and declarations of one kind of project."""

    name: str = NONE
    title: str = "No pack: the project's own dictionary and KPIs only"
    person_object: str | None = Field(
        None, description="Object whose records are people (resolution, erasure, reports)"
    )
    anchor_system: str | None = Field(
        None,
        description="System whose people records others should link to (duplicates "
        "coverage; the CRM pack: crm)",
    )
    event_log: EventLog | None = None
    reconciliation: Reconciliation | None = None
    roi: RoiSources = Field(default_factory=lambda: RoiSources())

    @property
    def folder(self) -> Path | None:
        return None if self.name == NONE else PACKS_ROOT / self.name

    @property
    def dictionary_path(self) -> Path | None:
        """The pack's shipped data dictionary (None: the project brings the whole one)."""
        return self.folder / "dictionary.yaml" if self.folder else None

    @property
    def kpis_path(self) -> Path | None:
        """The pack's KPI definitions (None: the engine's KPIs only)."""
        return self.folder / "kpis.yaml" if self.folder else None


def pack_names() -> list[str]:
    """The packs Workbench ships, ``none`` first."""
    found = sorted(p.name for p in PACKS_ROOT.iterdir() if (p / "pack.yaml").is_file())
    return [NONE, *found]


@cache
def load_pack(name: str) -> Pack:
    """The shipped pack ``name`` (``none``: an empty pack); an unknown name is an error."""
    if name == NONE:
        return Pack()
    if name not in pack_names():
        raise ConfigError(
            f"There is no pack named {name!r}.",
            where="workbench.yaml, key pack",
            fix=f"Use one of: {', '.join(pack_names())}.",
        )
    doc = read_yaml(PACKS_ROOT / name / "pack.yaml", what="pack")
    if isinstance(doc.data, dict):
        doc.data = {"name": name, **doc.data}
    return parse_model(Pack, doc, what="pack")
