"""Load export files into the warehouse: raw table, ledger and rejects.

Each file loads in one transaction: its rows go to ``raw.<source>`` with lineage
(``_load_id``, ``_source_file``, ``_row_number``), rows the parser could not read go to
``quar.ingest_rejects`` with line and reason, and the ledger gets a row whose counts add up.
If anything fails, the transaction rolls back, the warehouse is as it was, and the ledger
records the failure with its reason. An unchanged file is a no-op. Each load also records
the file's column layout and logs what changed since the source's previous load
(:mod:`.drift`). Staging is built from the loaded rows when validation needs it
(:mod:`.stage`), so each file is written to the warehouse once.
"""

from __future__ import annotations

import difflib
import gzip
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from workbench import audit
from workbench.config import CONFIG_FILE, DeprecatedMapping, Project, Source
from workbench.errors import IngestError, WorkbenchError
from workbench.ingest import drift, ledger
from workbench.ingest.files import (
    GZIP_MAGIC,
    ExportFile,
    check_unchanged,
    describe_file,
    source_files,
)
from workbench.ingest.incoming import Incoming, NoRecords, no_rows
from workbench.ingest.readers import (
    LINEAGE,
    RetryWithRejects,
    read_error,
    read_export,
    sets_rows_aside,
)
from workbench.ingest.rejects import store_rejects
from workbench.ingest.staging import blank_sql
from workbench.ingest.suppress import suppress
from workbench.store import Store, quote_ident, table

Step = Callable[[str], None]


@dataclass(frozen=True)
class LoadResult:
    """What happened to one file."""

    source: str
    file: Path
    status: str  # loaded | unchanged | failed
    load_id: int | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    error: WorkbenchError | None = None
    rows_suppressed: int = 0
    schema_changes: int = 0  # columns changed since the source's previous load
    rows_blank: int = 0  # rows without any value, skipped as blank lines are

    @property
    def message(self) -> str:
        if self.status == "unchanged":
            return f"unchanged, already loaded as load {self.load_id}"
        if self.status == "failed":
            return "refused: " + (self.error.what if self.error else "unknown error")
        rejected = f", {self.rows_rejected} rejected" if self.rows_rejected else ""
        if self.rows_suppressed:
            rejected += f", {self.rows_suppressed} of erased people suppressed"
        done = f"loaded {self.rows_loaded} of {self.rows_read} rows{rejected} (load {self.load_id})"
        if self.rows_blank:
            done += f"; {self.rows_blank} empty rows skipped"
        if self.schema_changes:
            done += f"; columns changed: {self.schema_changes} (`workbench schema-changes`)"
        return done


@dataclass(frozen=True)
class IngestReport:
    """The result of an ingest run: one entry per file, and the mappings of deprecated
    fields the sources still have (to warn about, once)."""

    loads: list[LoadResult]
    deprecated: list[DeprecatedMapping] = field(default_factory=list)

    @property
    def failures(self) -> list[LoadResult]:
        return [r for r in self.loads if r.status == "failed"]


def ingest(
    project: Project,
    store: Store,
    *,
    sources: list[str] | None = None,
    file: Path | None = None,
    on_file: Step | None = None,
    allow_empty: bool = False,
) -> IngestReport:
    """Load every configured source (or ``sources``), or one ``file`` as ``sources[0]``.

    Failed files are reported in the result (and the ledger); the others still load. A
    snapshot export without rows does not replace a snapshot with rows unless
    ``allow_empty`` (an empty export is more often a broken one than an empty system).
    """
    ledger.mark_interrupted(store)
    names = sources or list(project.config.sources)
    plan: list[tuple[str, Path]] = []
    if file is not None:
        if len(names) != 1:
            raise IngestError("Loading one file needs exactly one --source.", fix="Add --source.")
        project.source(names[0])
        plan.append((names[0], file))
    else:
        for name in names:
            files = source_files(project, name)
            if project.source(name).mode == "snapshot":
                files = files[-1:]  # the newest export is the whole data
            plan.extend((name, path) for path in files)
    results = []
    for name, path in plan:
        if on_file:
            on_file(f"{name}: {path.name}")
        results.append(load_file(project, store, name, path, allow_empty=allow_empty))
    deprecated = project.deprecated_mappings(list(dict.fromkeys(names)))
    return IngestReport(loads=results, deprecated=deprecated)


def load_file(
    project: Project, store: Store, source_name: str, path: Path, *, allow_empty: bool = False
) -> LoadResult:
    """Load one file as ``source_name``; never raises for bad input, returns 'failed'.

    The ledger row is committed as 'running' first and completed in the load's own
    transaction, so a process killed mid-load leaves a 'running' row (and none of the
    file's data); the next ingest marks it 'interrupted' and loads the file again.
    """
    source = project.source(source_name)
    started = datetime.now().astimezone()
    try:
        export = describe_file(path, source, source_name)
    except IngestError as exc:
        record_failure(store, source_name, source, path, started, exc.message)
        return LoadResult(source_name, path, "failed", error=exc)
    except Exception as exc:  # a bug: recorded with its reason, raised with its traceback
        record_failure(
            store, source_name, source, path, started, unexpected(exc, f"loading {path.name}")
        )
        raise
    previous = ledger.find_unchanged(
        store, source_name, export.sha256, ledger.read_options(source.options)
    )
    if previous is not None:
        return LoadResult(source_name, path, "unchanged", load_id=previous)
    load_id = ledger.next_load_id(store)
    ledger.record_load(
        store,
        **_ledger_row(source_name, source, path, export, started),
        load_id=load_id,
        status="running",
    )

    def attempt(collect_rejects: bool) -> tuple[int, int, int, int, int]:
        # read before the load's transaction: DuckDB reads a temporary table filled inside
        # it back on one thread only (csv_reader.INCOMING_TABLE); nothing read is kept
        try:
            incoming = read_export(store, export, source.options, collect_rejects=collect_rejects)
        except NoRecords:
            if not allow_empty:
                raise
            incoming = no_rows(_known_columns(store, source_name, source))
        try:
            with store.transaction():
                loaded, rejected, blank, changed = _load(
                    store, project, source_name, source, export, load_id, incoming
                )
                check_unchanged(export)  # the rows read are the ones the checksum describes
                if source.mode == "snapshot" and (loaded, rejected) == (0, 0) and not allow_empty:
                    _keep_snapshot(store, source_name, path)
                suppressed = suppress(store, project, source_name, load_id)  # erased people
                ledger.finish_load(
                    store,
                    load_id,
                    status="loaded",
                    rows_read=loaded + rejected,
                    rows_loaded=loaded - suppressed,
                    rows_rejected=rejected,
                    rows_suppressed=suppressed,
                    rows_blank=blank,
                )
                ledger.make_current(store, load_id, source_name, source.mode, path.name)
                audit.record(
                    store, "load", {"load_id": load_id, "file": path.name}, project=project
                )
        finally:
            incoming.close()
        return loaded - suppressed, rejected, suppressed, changed, blank

    try:
        try:
            counts = attempt(collect_rejects=False)
        except (duckdb.Error, RetryWithRejects):
            if not sets_rows_aside(export, source.options):
                raise
            counts = attempt(collect_rejects=True)  # set unreadable rows aside, load the rest
    except (WorkbenchError, duckdb.Error, RetryWithRejects) as exc:
        error = exc if isinstance(exc, WorkbenchError) else read_error(export, exc)
        ledger.finish_load(store, load_id, status="failed", error=error.message)
        return LoadResult(source_name, path, "failed", load_id=load_id, error=error)
    except Exception as exc:  # a bug: the row is not left 'running' (read as interrupted)
        ledger.finish_load(
            store, load_id, status="failed", error=unexpected(exc, f"loading {path.name}")
        )
        raise
    return LoadResult(
        source_name,
        path,
        "loaded",
        load_id=load_id,
        rows_read=sum(counts[:3]),
        rows_loaded=counts[0],
        rows_rejected=counts[1],
        rows_suppressed=counts[2],
        schema_changes=counts[3],
        rows_blank=counts[4],
    )


def _keep_snapshot(store: Store, source_name: str, path: Path) -> None:
    """Refuse an export without rows that would replace a snapshot with rows."""
    current = ledger.current_snapshot(store, source_name)
    if current is None or current[1] == 0:
        return
    raise IngestError(
        f"{path.name} has no rows and would replace the current snapshot of {source_name} "
        f"({current[1]:,} rows from {current[0]}); the current snapshot is kept.",
        where=str(path),
        fix="Check the export (a failed or filtered export is often empty). If the source "
        "really has no records now, load it with `workbench ingest --allow-empty`.",
    )


def _ledger_row(
    name: str, source: Source, path: Path, export: ExportFile | None, started: datetime
) -> dict[str, object]:
    """The columns of a new ledger row that describe the file."""
    return {
        "source": name,
        "object": source.object,
        "system": source.system,
        "mode": source.mode,
        "file": str(path.resolve()),
        "file_name": path.name,
        "sha256": export.sha256 if export else None,
        "bytes": export.size if export else None,
        "started_at": started,
        "is_current": False,
        "read_options": ledger.read_options(source.options),
    }


def _load(
    store: Store,
    project: Project,
    name: str,
    source: Source,
    export: ExportFile,
    load_id: int,
    incoming: Incoming,
) -> tuple[int, int, int, int]:
    """Insert the file's rows (as ``incoming`` reads them) and rejects, skip its rows without
    any value, and record its layout (:mod:`.drift`); returns (rows loaded, rows rejected,
    rows skipped as empty, columns changed since the source's previous load)."""
    check_mapping(
        project, name, source, incoming.columns, export.path, incoming.duplicates, incoming.renamed
    )
    raw = table("raw", name)
    _ensure_raw_table(store, name, incoming.columns)
    params = dict(incoming.params, load_id=load_id, file=str(export.path))
    cols = ", ".join(quote_ident(c) for c in incoming.columns)
    store.execute(
        f"INSERT INTO {raw} BY NAME SELECT $load_id AS _load_id, $file AS _source_file, "
        f"_row_number, {cols} FROM ({incoming.select_sql})",
        params,
    )
    rejected = store_rejects(
        store,
        incoming.rejects() if incoming.rejects else [],
        load_id=load_id,
        source=name,
        file=str(export.path),
        raw=raw,
    )
    blank = _skip_blank_rows(store, raw, load_id, incoming.columns)
    loaded = int(store.scalar(f"SELECT count(*) FROM {raw} WHERE _load_id = $id", {"id": load_id}))
    changed = 0
    if incoming.layout:
        layout = drift.profile(store, raw, load_id, incoming.columns, source.options.null_values)
        changed = len(drift.record_layout(store, name, load_id, layout))
    return loaded, rejected, blank, changed


def _known_columns(store: Store, name: str, source: Source) -> list[str]:
    """The columns of an export that does not tell them (an empty JSON array): those its
    source's earlier loads had, else those the mapping reads."""
    if store.table_exists("raw", name):
        return [c for c in store.columns("raw", name) if c not in LINEAGE]
    mapped = (fmap.from_ for fmap in source.columns.values() if fmap.from_ is not None)
    return list(dict.fromkeys(mapped))


def _skip_blank_rows(store: Store, raw: str, load_id: int, columns: list[str]) -> int:
    """Delete the load's rows that have no value in any column (only spaces at most): the
    rows of only delimiters a spreadsheet leaves below its data, ``{}`` lines. Like blank
    lines they are no records; the others keep their place in the file (``_row_number``).
    Returns how many were skipped."""
    if not columns:
        return 0
    empty = " AND ".join(blank_sql(quote_ident(c)) for c in columns)
    found = f"FROM {raw} WHERE _load_id = $id AND {empty}"
    blank = int(store.scalar(f"SELECT count(*) {found}", {"id": load_id}))
    if blank:
        store.execute(f"DELETE {found}", {"id": load_id})
    return blank


REBUILD_AT = 32  # adding more new columns than this rebuilds the raw table in one go


def _ensure_raw_table(store: Store, name: str, columns: list[str]) -> None:
    """Create ``raw.<source>`` or add the columns a newer export brings (all text).

    One ALTER per column costs a few milliseconds each; an export thousands of columns
    wide is instead copied into a new table that has them all.
    """
    raw = table("raw", name)
    lineage = "_load_id BIGINT NOT NULL, _source_file VARCHAR NOT NULL, _row_number BIGINT NOT NULL"
    if not store.table_exists("raw", name):
        cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in columns)
        store.execute(f"CREATE TABLE {raw} ({lineage}, {cols})")
        return
    existing = store.columns("raw", name)
    known = {c.lower() for c in existing}
    # DuckDB names are case-insensitive
    missing = list({c.lower(): c for c in columns if c.lower() not in known}.values())
    if len(missing) <= REBUILD_AT:
        for column in missing:
            store.execute(f"ALTER TABLE {raw} ADD COLUMN {quote_ident(column)} VARCHAR")
        return
    data = [c for c in existing if c not in LINEAGE] + missing
    temp = f"_wb_rebuild_{name}"
    cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in data)
    store.execute(f"CREATE TABLE {table('raw', temp)} ({lineage}, {cols})")
    store.execute(f"INSERT INTO {table('raw', temp)} BY NAME SELECT * FROM {raw}")
    store.execute(f"DROP TABLE {raw}")
    store.execute(f"ALTER TABLE {table('raw', temp)} RENAME TO {quote_ident(name)}")


def check_mapping(
    project: Project,
    name: str,
    source: Source,
    columns: list[str],
    path: Path,
    duplicates: dict[str, list[int]] | None = None,
    renamed: dict[str, tuple[str, int]] | None = None,
) -> None:
    """Every column the mapping names must exist in the file (case-insensitively, as in SQL)
    and occur in its header only once, under that name (not only under the name the reader
    gave a repeated one: ``renamed``)."""
    available = {c.lower() for c in columns}
    for fname, fmap in source.columns.items():
        if fmap.from_ is None:
            continue
        where = f"{project.root / CONFIG_FILE}, key sources.{name}.columns.{fname}"
        spots = (duplicates or {}).get(fmap.from_.strip().lower())
        if spots:
            raise IngestError(
                f"Column '{fmap.from_}' (mapped to {source.object}.{fname}) occurs "
                f"{len(spots)} times in the header of {path.name} (columns "
                f"{', '.join(map(str, spots))}); Workbench cannot tell which one is meant.",
                where=where,
                fix="Give the columns distinct names in the export; nothing was loaded.",
            )
        given = (renamed or {}).get(fmap.from_.strip().lower())
        if given:
            raise IngestError(
                f"Column '{fmap.from_}' (mapped to {source.object}.{fname}) is not a name in "
                f"the header of {path.name}: the header repeats '{given[0]}', and the reader "
                f"named its copy in column {given[1]} '{fmap.from_}'; Workbench cannot tell "
                "which column is meant.",
                where=where,
                fix="Give the columns distinct names in the export; nothing was loaded.",
            )
        if fmap.from_.lower() not in available:
            raise IngestError(
                f"Column '{fmap.from_}' (mapped to {source.object}.{fname}) is not in {path.name}.",
                where=where,
                fix=_mapping_hint(fmap.from_, columns, name, path),
            )


def _mapping_hint(
    wanted: str, columns: list[str], source_name: str, path: Path | None = None
) -> str:
    told = _excel_sep(path) if path is not None and columns and "sep=" in columns[0] else None
    if told is not None:  # Excel writes 'sep=;' above the header of a CSV for another locale
        return (
            f"The file's first line is Excel's 'sep={told}', which names its delimiter, and "
            f"was read as the header. Set sources.{source_name}.options.skip_rows to 1 and "
            f"options.delimiter to '{told}'."
        )
    if len(columns) == 1:
        found = [d for d in (",", ";", "\t", "|") if d in columns[0]]
        if found:
            shown = "\\t" if found[0] == "\t" else found[0]
            return (
                f"The file was read as one column named '{columns[0][:60]}': it seems to use "
                f"'{shown}' as its delimiter. Set sources.{source_name}.options.delimiter to "
                "it, or leave the option out to have it detected."
            )
    close = difflib.get_close_matches(wanted, columns, n=1)
    hint = f"Did you mean '{close[0]}'? " if close else ""
    if any(c.startswith("__UNNAMED__") for c in columns):  # a workbook row with empty cells
        hint += (
            "The row read as the header has empty cells, as a title above the header has; "
            f"set sources.{source_name}.options.skip_rows to the number of rows above the "
            "header. "
        )
    # a header misread (a wrong encoding or skip_rows) can be long text: each name is cut
    shown = ", ".join(c if len(c) <= 40 else c[:39] + "…" for c in columns[:30])
    shown += " ..." if len(columns) > 30 else ""
    return f"{hint}Map it to one of the file's columns: {shown}."


def _excel_sep(path: Path) -> str | None:
    """The delimiter an Excel ``sep=X`` first line names, or None."""
    try:
        with path.open("rb") as raw:
            head = raw.read(64)
        if head[:2] == GZIP_MAGIC:
            with gzip.open(path, "rb") as unzipped:
                head = unzipped.read(64)
    except (OSError, EOFError):
        return None
    found = re.match(rb"^(?:\xef\xbb\xbf)?\"?sep=(.)", head, re.IGNORECASE)
    if not found:
        return None
    told = found.group(1).decode("latin-1")
    return "\\t" if told == "\t" else told  # as options.delimiter takes it


def record_failure(
    store: Store, name: str, source: Source, file: Path | str, started: datetime, error: str
) -> None:
    """A ``failed`` ledger row with its reason, for a file refused before its load began, or
    for a failure to stage a source (``file`` is then the table staging read,
    ``raw.<source>``: :mod:`.stage`)."""
    row = _ledger_row(name, source, Path(file), None, started)
    if isinstance(file, str):
        row.update(file=file, file_name=file)
    ledger.record_load(
        store,
        **row,
        load_id=ledger.next_load_id(store),
        rows_loaded=0,
        ended_at=datetime.now().astimezone(),
        status="failed",
        error=error,
    )


def unexpected(exc: BaseException, doing: str) -> str:
    """The ledger's reason for an error that is not a :class:`WorkbenchError` (a bug)."""
    return f"Unexpected error while {doing}: {type(exc).__name__}: {exc}"
