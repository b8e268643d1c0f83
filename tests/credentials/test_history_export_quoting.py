"""CSV exports quote every cell and neutralise formula starts, also after `;` and `,`."""

from __future__ import annotations

import csv
import io

import pytest

from credentials import export
from tests.credentials.test_history_export import body
from tests.credentials.test_history_views import URL, add_history

pytestmark = pytest.mark.django_db

CASES = [
    ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
    ("=1,=2", "'=1,'=2"),
    ("a;=cmd", "a;'=cmd"),
    ("b,+1", "b,'+1"),
    ("\t=1", "'\t=1"),
    ("x;@SUM(A1),-2", "x;'@SUM(A1),'-2"),
    ("c;\r=1", "c;'\r=1"),
    ("Plain, name; here", "Plain, name; here"),
    ("a=b", "a=b"),
]


@pytest.mark.parametrize(("value", "safe"), CASES)
def test_every_part_that_starts_like_a_formula_is_neutralised(value, safe):
    assert export.neutralise_formula(value) == safe


@pytest.mark.parametrize(("value", "safe"), CASES)
def test_csv_export_quotes_every_cell_and_neutralises_each_part(manager_client, team, manager, value, safe):
    add_history(team, manager, name=value, identifier="sa;=x")

    text = body(manager_client.get(URL, {"_export": "csv"}))
    records = text.split("\r\n# chain_head=")[0]
    table = list(csv.reader(io.StringIO(records)))

    assert table[1][1] == safe
    assert table[1][5] == "sa;'=x"
    # Each cell is quoted, data rows and heading alike: a line starts with a quote.
    assert all(line.startswith('"') for line in records.split("\r\n") if line)
    assert records.startswith('"Action","Credential name"')
