"""The integration inventory and the event service levels (``integration:`` in workbench.yaml).

The inventory says who answers for each connected system and how it is reached; the event
SLA table says how fast and how reliably each kind of synced change must arrive. Both are
declarations; :mod:`workbench.quality.integration` measures them against the pack's event
log for the governance review.

.. code-block:: yaml

    integration:
      systems:
        crm: {owner: Sales Operations, primary_api: Salesforce REST API v61,
              contact: crm-admins@example.com}
      event_slas:
        - {event: contact, from: crm, to: billing, max_latency_ms: 2000,
           max_failure_rate: 0.02, max_age_hours: 6}
"""

from __future__ import annotations

from pydantic import Field

from workbench.yamlconf import StrictModel


class SystemEntry(StrictModel):
    """One connected system of the inventory."""

    owner: str = Field(description="Team or person accountable for the system's data")
    primary_api: str | None = Field(None, description="The API the integration uses")
    contact: str | None = Field(None, description="Who to reach when it breaks")
    description: str = ""


class EventSla(StrictModel):
    """The service level of one kind of synced change (the event log's ``event`` value,
    optionally only from one system to another)."""

    event: str = Field(description="What was synced (the event log's event field: contact)")
    source: str | None = Field(None, alias="from", description="Only changes from this system")
    target: str | None = Field(None, alias="to", description="Only changes to this system")
    max_latency_ms: float = Field(gt=0, description="Required latency of successful syncs")
    latency_share: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="Share of successful syncs that must meet max_latency_ms "
        "(default: governance.latency_slo_share)",
    )
    max_failure_rate: float | None = Field(
        None, ge=0, le=1, description="Most syncs of the period that may fail"
    )
    max_age_hours: float | None = Field(
        None, gt=0, description="Most hours since the newest sync at the period's end"
    )

    def covers(self, event: str, source: str | None, target: str | None) -> bool:
        """Whether syncs of ``event`` from ``source`` to ``target`` are this SLA's."""
        return (
            self.event == event and self.source in (None, source) and self.target in (None, target)
        )

    @property
    def label(self) -> str:
        """``contact crm -> billing`` (a side not given reads ``any``)."""
        if self.source is None and self.target is None:
            return self.event
        return f"{self.event} {self.source or 'any'} -> {self.target or 'any'}"


class IntegrationConfig(StrictModel):
    """The inventory of connected systems and the event SLA table."""

    systems: dict[str, SystemEntry] = Field(
        default_factory=dict, description="Per system name (as sources' `system`): who, how"
    )
    event_slas: list[EventSla] = Field(default_factory=list)
