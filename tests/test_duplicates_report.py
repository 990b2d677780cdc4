"""The duplicates report on the demo: Splink's own views (comparison viewer, cluster studio,
m/u parameters, match weights, a pair's waterfall) are in the page, offline and masked, and
cover every comparison of the stored model.

The model and the personal values are read here on their own terms (the warehouse, the
stored model JSON), not through the report code.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import polars as pl
import pytest

from workbench.config import load_project
from workbench.report import duplicates, splink_views
from workbench.report.context import open_context
from workbench.resolve.evaluate import Evaluation
from workbench.resolve.inputs import input_frame, matching_features
from workbench.store import brief_store

PERIOD = "2026-09"  # as rendered by conftest.demo_reports
PLOTLY = "application/vnd.plotly.v1+json"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
# a script, stylesheet, image or frame loaded from the network
REMOTE = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I
)
# the address of every tag that loads or links something
TAG_URL = re.compile(
    r"<(?:script|link|img|iframe|a)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]*)", re.I
)


@pytest.fixture(scope="module")
def rendered(demo_reports: tuple[Path, Path]) -> dict:
    """The duplicates report of the session's demo (1,500 contacts, seed 11), as rendered
    by `workbench report all` (conftest.py); read only here."""
    project, reports = demo_reports
    folder = reports / "duplicates" / PERIOD
    page = (folder / "duplicates.html").read_text()
    with duckdb.connect(str(load_project(project).warehouse_path), read_only=True) as con:
        model = json.loads(
            con.execute(
                "SELECT model_json FROM id.runs WHERE object = 'contacts' "
                "ORDER BY run_id DESC LIMIT 1"
            ).fetchone()[0]
        )
        emails = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT email FROM core.contacts WHERE email IS NOT NULL"
            ).fetchall()
        ]
        stored = dict(
            ((left, right), weight)
            for left, right, weight in con.execute(
                "SELECT unique_id_l, unique_id_r, match_weight FROM id.pairs "
                "WHERE object = 'contacts'"
            ).fetchall()
        )
    return {
        "project": project,
        "folder": folder,
        "page": page,
        "dashboards": _frames(page),
        "notebook": json.loads((folder / "duplicates.ipynb").read_text()),
        "model": model,
        "emails": emails,
        "stored": stored,
    }


def _frames(page: str) -> dict[str, str]:
    """The pages embedded in frames of ``page`` (``srcdoc``), by their title."""
    found: dict[str, str] = {}

    class Frames(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            given = dict(attrs)
            if tag == "iframe" and given.get("srcdoc"):
                found[given.get("title") or ""] = given["srcdoc"] or ""

    Frames().feed(page)
    return found


def _figures(notebook: dict) -> dict[str, dict]:
    found = {}
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            fig = output.get("data", {}).get(PLOTLY)
            if fig:
                found[fig["layout"]["title"]["text"]] = fig
    return found


def _levels(comparison: dict) -> list[str]:
    return [
        lv["label_for_charts"]
        for lv in comparison["comparison_levels"]
        if not lv.get("is_null_level")
    ]


def _label(text: str) -> str:
    """An axis label as written: wrapped with <br>, names in <b>."""
    return re.sub(r"</?b>", "", text).replace("<br>", " ")


def test_splink_dashboards_are_embedded_and_offline(rendered) -> None:
    dashboards = rendered["dashboards"]
    assert set(dashboards) == {"Splink comparison viewer", "Splink cluster studio"}
    for title, doc in dashboards.items():
        assert f"<h2>{title}</h2>" in doc
        assert "comparison_vector_data" in doc or "raw_nodes_data" in doc
        assert REMOTE.search(doc) is None, title
        assert 'src="http' not in doc and 'href="http' not in doc, title
        urls = TAG_URL.findall(doc)
        assert not [u for u in urls if "cdn" in u.lower() or u.startswith(("http", "//"))], title
    page = rendered["page"]
    assert REMOTE.search(page) is None
    assert not [u for u in TAG_URL.findall(page) if "cdn" in u.lower()]
    # the report folder holds the report alone: nothing next to it to lose when moved
    assert sorted(p.name for p in rendered["folder"].iterdir()) == [
        "duplicates.html",
        "duplicates.ipynb",
    ]


@pytest.mark.slow
def test_nothing_personal_is_written(rendered) -> None:
    emails = rendered["emails"]
    assert len(emails) > 500
    written = [p.read_text() for p in rendered["folder"].iterdir()]
    written += list(rendered["dashboards"].values())  # as the browser reads them
    for text in written:
        lowered = text.lower()
        assert not [e for e in emails if e.lower() in lowered]
    for doc in rendered["dashboards"].values():
        assert "***@" in doc


def test_match_weights_and_m_u_charts_cover_every_comparison(rendered) -> None:
    figures = _figures(rendered["notebook"])
    comparisons = rendered["model"]["comparisons"]
    weights = figures["Match weights of the model's comparison levels"]
    m_u = figures["m and u parameters of the model's comparison levels"]
    prior = [t for t in weights["data"] if t["name"] == "prior"]
    assert len(prior) == 1 and len(prior[0]["x"]) == 1
    for comparison in comparisons:
        name, labels = comparison["output_column_name"], _levels(comparison)
        drawn = [t for t in weights["data"] if t["name"] == name]
        assert len(drawn) == 1, name
        assert [_label(y) for y in drawn[0]["y"]] == labels
        assert len(drawn[0]["x"]) == len(labels)
        parameters = [t for t in m_u["data"] if t["name"] == name]
        assert len(parameters) == 2, name  # m and u
        for trace in parameters:
            assert [_label(y) for y in trace["y"]] == labels
            assert len(trace["x"]) == len(labels)
            assert all(0 <= v <= 1 for v in trace["x"])
            assert not [t for t in trace["text"] if "e-" in t]  # no scientific notation
    assert {t["name"] for t in weights["data"]} == {"prior"} | {
        c["output_column_name"] for c in comparisons
    }


def test_waterfall_bars_carry_the_level_labels(rendered) -> None:
    figures = _figures(rendered["notebook"])
    [title] = [t for t in figures if t.startswith("Why ")]
    trace = figures[title]["data"][0]
    assert trace["type"] == "waterfall"
    bars = [_label(y) for y in trace["y"]]
    assert bars[0].startswith("prior") and bars[-1] == "match weight"
    labels = {c["output_column_name"]: _levels(c) for c in rendered["model"]["comparisons"]}
    assert len(bars) == len(labels) + 2
    for bar in bars[1:-1]:
        name, _, level = bar.partition(" ")
        level = level.removesuffix(" (adjusted for how common the value is)")
        assert level in labels[name] or level == "missing on one side", bar
    # the pair's total is the weight the resolution stored for it
    left, right = re.findall(r"Why (\S+) and (\S+) score", title)[0]
    assert trace["x"][-1] == pytest.approx(rendered["stored"][(left, right)], abs=1e-9)


def test_the_views_score_exactly_what_the_resolution_stored(rendered) -> None:
    doc = rendered["dashboards"]["Splink comparison viewer"]
    start = doc.index("comparison_vector_data = ") + len("comparison_vector_data = ")
    examples = json.loads(doc[start : doc.index(";\n", start)])
    assert len(examples) > 20
    for row in examples:
        stored = rendered["stored"][(row["unique_id_l"], row["unique_id_r"])]
        assert row["match_weight"] == pytest.approx(stored, abs=1e-9)


def test_above_the_limit_views_score_without_term_frequencies(rendered, monkeypatch) -> None:
    monkeypatch.setattr(splink_views, "EXACT_TF_MAX_RECORDS", 100)
    project = load_project(rendered["project"])
    views = splink_views.build(project, brief_store(project), "contacts")
    assert views is not None and not views.exact and views.tf_gap > 0
    assert views.waterfall is not None
    left, right = views.waterfall.left, views.waterfall.right
    assert views.waterfall.steps[-1].comparison == "term frequencies"
    # the waterfall still ends at the weight the resolution stored
    assert views.waterfall.match_weight == pytest.approx(rendered["stored"][(left, right)])


def test_sample_spreads_over_bands_and_takes_everything_when_small() -> None:
    assert splink_views.per_band([3, 4], 400) == 4
    assert splink_views.per_band([1000, 5, 1000], 100) == 47
    assert splink_views.per_band([], 400) == 0


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make browser)")
def test_dashboards_render_offline_in_headless_chromium(rendered, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_file = rendered["folder"] / "duplicates.html"
    errors: list[str] = []
    external: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def route(r):  # offline: any request that leaves the file is refused and noted
            if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
                return r.continue_()
            external.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.goto(page_file.as_uri())
        frames = {f.locator("h2").first.inner_text(timeout=20_000): f for f in page.frames[1:]}
        assert set(frames) == {"Splink comparison viewer", "Splink cluster studio"}
        viewer, studio = frames["Splink comparison viewer"], frames["Splink cluster studio"]
        # the comparison viewer draws its chart of comparison vectors (on a canvas); a click
        # on a bar shows an example pair, masked
        chart = viewer.locator("#observablehq-comparison_vector_distribution_chart canvas")
        chart.first.wait_for(timeout=20_000)
        box = chart.first.bounding_box()
        assert box is not None and box["height"] > 100
        for x in range(140, int(box["width"]) - 40, 8):
            chart.first.click(position={"x": x, "y": 0.6 * box["height"]})
            page.wait_for_timeout(250)
            if "Comparison of non-null fields" in viewer.locator("body").inner_text():
                break
        shown = viewer.locator("body").inner_text()
        assert "Comparison of non-null fields" in shown and "***" in shown
        # cluster studio draws the records of the chosen entity as a graph
        studio.locator("svg circle").nth(1).wait_for(timeout=20_000)
        assert studio.locator("svg circle").count() >= 2
        assert studio.locator("select option").count() >= 2
        page.screenshot(path=str(tmp_path / "duplicates.png"), full_page=True)
        browser.close()
    assert errors == []
    assert external == []


def _warehouse(rendered) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(load_project(rendered["project"]).warehouse_path), read_only=True)


def test_the_sample_is_drawn_as_documented(rendered) -> None:
    """Up to PAIRS pairs, the same number from each one-bit band of match weight, the first
    by the MD5 of their ids, and the most uncertain pair; the entities' members and the pairs
    between them."""
    project = load_project(rendered["project"])
    sample = splink_views.draw_sample(brief_store(project), "contacts")
    pairs = "FROM id.pairs WHERE object = 'contacts'"
    with _warehouse(rendered) as con:
        bands = con.execute(f"SELECT count(*) {pairs} GROUP BY floor(match_weight)").fetchall()
        counts = [n for (n,) in bands]
        assert sum(counts) > splink_views.PAIRS  # the demo's pairs are sampled
        first = (
            "SELECT unique_id_l, unique_id_r FROM (SELECT *, row_number() OVER ("
            "PARTITION BY floor(match_weight) ORDER BY md5(unique_id_l || ' ' || unique_id_r)"
            f") AS k {pairs}) WHERE k <= $cap"
        )
        cap = splink_views.per_band(counts, splink_views.PAIRS)
        expected = set(con.execute(first, {"cap": cap}).fetchall())
        uncertain = (
            f"SELECT unique_id_l, unique_id_r {pairs} "
            "ORDER BY abs(match_probability - 0.5), unique_id_l, unique_id_r LIMIT 1"
        )
        expected |= set(con.execute(uncertain).fetchall())
        sizes = dict(
            con.execute(
                "SELECT entity_id, count(*) FROM id.members WHERE object = 'contacts' GROUP BY ALL"
            ).fetchall()
        )
    viewer = sample.pairs.filter(pl.col("viewer")).select("unique_id_l", "unique_id_r")
    assert set(viewer.iter_rows()) == expected
    shown = sample.members.group_by("cluster_id").len()
    assert 0 < shown.height <= splink_views.CLUSTERS
    for entity, n in shown.iter_rows():
        assert n == sizes[entity] and 2 <= n <= splink_views.MAX_CLUSTER_RECORDS
    members = set(sample.members["unique_id"])
    edges = sample.pairs.filter(~pl.col("viewer")).select("unique_id_l", "unique_id_r")
    assert edges.height
    assert all(left in members and right in members for left, right in edges.iter_rows())


def test_the_sample_input_is_the_matching_input_of_its_records(rendered) -> None:
    """The features computed over the sampled records alone (and the company names their
    employer may be) are those of the whole matching input."""
    project = load_project(rendered["project"])
    store = brief_store(project)
    with store.held():
        feats = matching_features(project, store, "contacts")
        sample = splink_views.draw_sample(store, "contacts")
        records = splink_views.sample_input(store, feats, sample)
        everything = input_frame(store, feats)
    ids = set(sample.members["unique_id"]) | set(sample.pairs["unique_id_l"])
    ids |= set(sample.pairs["unique_id_r"])
    assert set(records["unique_id"]) == ids
    kept = [c for c in records.columns if c not in splink_views.DROPPED]
    expected = everything.filter(pl.col("unique_id").is_in(list(ids))).sort("unique_id")
    assert records.select(kept).equals(expected.select(kept))
    company = feats.of_kind("company")[0]
    # some sampled record has no company of its own but one its work address names
    looked_up = records.filter(pl.col(company).is_null() & pl.col(feats.employer).is_not_null())
    assert looked_up.height


def test_one_pass_over_the_memberships_serves_three_sections(rendered) -> None:
    ctx = open_context(rendered["project"], PERIOD)
    found = duplicates.entities(ctx)
    sizes = found.filter(pl.col("part") == "sizes").sort("size")
    assert (
        sizes.select("size", "n").rows()
        == Evaluation.of_store(ctx.store, "contacts").cluster_sizes().rows()
    )
    with _warehouse(rendered) as con:
        examples = con.execute(
            "SELECT entity_id FROM id.members WHERE object = 'contacts' GROUP BY entity_id "
            "HAVING min(source) <> max(source) ORDER BY count(*) DESC, entity_id LIMIT $n",
            {"n": duplicates.EXAMPLES},
        ).fetchall()
        candidates = con.execute(
            """WITH sized AS (
                   SELECT entity_id, count(*) AS size, min(source) <> max(source) AS systems
                   FROM id.members WHERE object = 'contacts' GROUP BY entity_id
                   HAVING count(*) BETWEEN 2 AND $most)
               SELECT entity_id, size, k FROM (
                   SELECT *, row_number() OVER (
                       PARTITION BY size ORDER BY systems DESC, entity_id) AS k
                   FROM sized)
               WHERE k <= $n""",
            {"most": splink_views.MAX_CLUSTER_RECORDS, "n": splink_views.CLUSTERS},
        ).fetchall()
    shown = found.filter(pl.col("part") == "examples").sort(
        "size", "entity_id", descending=[True, False]
    )
    assert shown.select("entity_id").rows() == examples
    studio = found.filter(pl.col("part") == "studio").select("entity_id", "size", "n")
    assert sorted(studio.rows()) == sorted(candidates)
