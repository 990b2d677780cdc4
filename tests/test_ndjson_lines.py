"""NDJSON lines set aside one by one: DuckDB vouches for most lines in bulk, Python's parser
judges the rest; what is kept and what is set aside must be exactly what a line-by-line
check with Python's parser (written here, independently) keeps and sets aside."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from workbench.ingest import ndjson
from workbench.ingest.jsonscan import MAX_DEPTH

GOOD = [
    b'{"id": 1, "name": "Ana"}',
    b'{"id":2,"tags":["a","b"],"address":{"city":"Oslo"}}',
    b'{"id": 3, "note": "NaN and Infinity are words here, {so is a brace}, and ,} too"}',
    b'{"id": 4, "big": 1e999, "neg": -0, "esc": "\\u00e9\\n"}',
    b'  {"id": 5}  \r',
    b'{"id": 6, "same": {"k": 1}, "other": {"k": 2}}',
    '{"id": 7, "name": "Zoë Ångström"}'.encode(),
]
BAD = {  # line -> the kind of reject
    b'{"id": 10,}': "MALFORMED JSON",  # trailing comma: DuckDB's parser reads it
    b'{"id": 11 , }': "MALFORMED JSON",
    b'{"id": 12, "tags": [1, 2, ]}': "MALFORMED JSON",
    b'{"id": 13, "score": NaN}': "MALFORMED JSON",  # DuckDB's parser reads it too
    b'{"id": 14, "score": -Infinity}': "MALFORMED JSON",
    b'{"id": 24, "score": nan}': "MALFORMED JSON",  # yyjson reads these in any case
    b'{"id": 25, "score": -INF}': "MALFORMED JSON",
    b'{"id": 26, "score": [1, infinity]}': "MALFORMED JSON",
    b'{"id": 27, "big": 1' + b"0" * 4400 + b"}": "MALFORMED JSON",  # beyond Python's ints
    b'{"id": 15, "id": 16}': "MALFORMED JSON",  # duplicate key: DuckDB keeps both
    b'{"id": 17, "address": {"city": "A", "city": "B"}}': "MALFORMED JSON",
    b"[1, 2, 3]": "NOT AN OBJECT",
    b'"just a string"': "NOT AN OBJECT",
    b"42": "NOT AN OBJECT",
    b'{"id": 18, "name": "unterminated}': "MALFORMED JSON",
    b"{'id': 19}": "MALFORMED JSON",
    b'{"id": 20} {"id": 21}': "MALFORMED JSON",
    b'\xef\xbb\xbf{"id": 22}': "MALFORMED JSON",  # a byte order mark inside the file
    b'{"id": 23, "name": "\xff\xfe"}': "INVALID ENCODING",
    b'{"a":' * (MAX_DEPTH + 5) + b"1" + b"}" * (MAX_DEPTH + 5): "NESTED TOO DEEP",
}


def reference(lines: list[bytes]) -> tuple[list[bytes], list[tuple[int, int, str]]]:
    """Line by line with Python's parser: the lines kept, and (record, line, kind) of the
    others; blank lines are not records."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate")
        return dict(items)

    def constant(name: str) -> Any:
        raise ValueError(name)

    kept, bad, record = [], [], 0
    for number, line in enumerate(lines, start=1):
        body = line.rstrip(b"\r")
        if not body.strip():
            continue
        record += 1
        if body in BAD and BAD[body] == "NESTED TOO DEEP":  # bounded before any parser
            bad.append((record, number, "NESTED TOO DEEP"))
            continue
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            bad.append((record, number, "INVALID ENCODING"))
            continue
        try:
            value = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
        except ValueError:
            bad.append((record, number, "MALFORMED JSON"))
            continue
        if not isinstance(value, dict):
            bad.append((record, number, "NOT AN OBJECT"))
            continue
        kept.append(body)
    return kept, bad


@pytest.mark.parametrize("batch", [3, 1000])
def test_lines_kept_and_set_aside_match_pythons_parser(tmp_path: Path, monkeypatch, batch) -> None:
    monkeypatch.setattr(ndjson, "BATCH_LINES", batch)  # 3: batches end mid-file
    lines: list[bytes] = []
    for i in range(4):
        lines += [*GOOD, b"", *BAD, b"   "]
        lines.append(b'{"id": %d, "round": true}' % (100 + i))
    path = tmp_path / "lines.ndjson.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    out, rejects, records = ndjson.split_lines(path, gzip=True)
    kept, bad = reference(lines)
    assert records == len(kept) + len(bad)
    assert out.read_bytes().splitlines() == kept
    assert [(r.row_number, r.line, r.error_type) for r in rejects] == bad
    assert {kind for *_, kind in bad} == set(BAD.values())  # every kind was met
    out.unlink()


def test_duckdb_vouches_for_plain_objects_and_never_for_a_bad_line() -> None:
    """The bulk check may doubt a good line (Python's parser then reads it), never vouch
    for a bad one; plain flat objects, most of any export, are vouched for."""
    import duckdb

    plain = [b'{"id": 1, "name": "Ana"}', b'{"id":2,"ok":true,"n":null,"x":[1,2]}', GOOD[-1]]
    texts = [b.decode() for b in plain]
    bad = [b.decode("utf-8") for b in BAD if BAD[b] not in ("INVALID ENCODING", "NESTED TOO DEEP")]
    with duckdb.connect() as con:
        doubtful = ndjson._doubtful(con, texts + bad)
    assert doubtful == set(range(len(texts), len(texts) + len(bad)))


def test_no_line_duckdb_vouches_for_is_one_pythons_parser_rejects() -> None:
    """Lines built at random from JSON's pieces and the spellings parsers disagree on
    (seeded): every one DuckDB vouches for must pass Python's parser, the judge."""
    import random

    import duckdb

    rng = random.Random(23)
    values = ["1", "-0", "1.5e3", "true", "null", '"x"', '"NaN"', '"a,}"', "[]", "[1,2]",
              "{}", '{"k":1}', "nan", "NaN", "-Infinity", "inf", "Inf", "-nan", "1" * 1200,
              "01", ".5", "+1", '"\\ud800"', '"tab\\t"', "tru", "[1,]", "1e999"]  # fmt: skip
    keys = ['"a"', '"b"', '"a"', '"c d"', "e", '""']
    seps = [",", ", ", " , ", ",,", ",\t"]

    def line() -> str:
        pairs = [f"{rng.choice(keys)}:{rng.choice(['', ' '])}{rng.choice(values)}"
                 for _ in range(rng.randint(0, 4))]  # fmt: skip
        body = rng.choice(seps).join(pairs) if pairs else ""
        tail = rng.choice(["", "", ",", " ,"])
        return rng.choice(["", " "]) + "{" + body + tail + "}" + rng.choice(["", " ", "}"])

    lines = [line() for _ in range(3000)]
    with duckdb.connect() as con:
        doubtful = ndjson._doubtful(con, lines)
    vouched = [text for i, text in enumerate(lines) if i not in doubtful]
    rejected = []
    for text in vouched:
        try:
            ndjson._check(text)
        except ValueError:
            rejected.append(text)
    assert rejected == []
    assert len(vouched) > 300  # and the bulk check does vouch for many
