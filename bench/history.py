"""Credential history at scale: the portal's table against the Django admin, deep pages, exports.

    .venv/bin/python bench/history.py [--rows 1000000] [--db sqlite|postgres|both] [--runs 7] [--rebuild]

Builds (once; later runs reuse it) a bench database with ROWS history rows for one team
and ROWS more spread over 99 other teams, interleaved in time as real teams' rows are:
SQLite in bench/bench_history.sqlite3, PostgreSQL in the database `bench_history`
(server from BENCH_POSTGRES_SERVER, default postgres://postgres@127.0.0.1:5432). Then it
times, in-process with Django's test Client and DEBUG off (median of --runs runs), the
history page as a View user and the admin changelist of CredentialHistory as staff, and
streams exports of about 10,000 rows and of all the team's rows, measuring rows per
second and peak Python memory (tracemalloc, in a separate run so it does not slow the
timing). It prints a table and each ratio against the issue's targets.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts bench/ first on the path, where a file named like a module of
# the standard library would shadow it, and bench._common is not importable: use the project root.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import gc  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from bench._common import drop_database, machine, median_ms, setup_django, table  # noqa: E402

DB_NAME = "bench_history"
PORTAL = "/team/api-credentials/history/"
ADMIN = "/admin/credentials/credentialhistory/"
OTHER_TEAMS = 99
SPAN = timedelta(days=730)
START = datetime(2024, 11, 28, tzinfo=UTC)

ADJECTIVES = [
    *("Quarterly", "Nightly", "Legacy", "Primary", "Backup", "Regional", "Partner", "Internal"),
    *("Staging", "Retail", "Holiday", "Loyalty", "Payroll", "Mobile", "Batch", "Sandbox"),
    *("Europe", "Catalog", "Support", "Analytics"),
]
NOUNS = [
    *("orders", "rewards", "payouts", "sync", "reporting", "importer", "gateway", "webhook"),
    *("fulfilment", "billing", "audit", "exporter", "scheduler", "storefront", "reconciler"),
]
NAMES = [f"{adjective} {noun}" for adjective in ADJECTIVES for noun in NOUNS]  # 300 per team
PEOPLE = [
    ("Ada Lovelace", "ada.lovelace"),
    ("Grace Hopper", "grace.hopper"),
    ("Alan Turing", "alan.turing"),
    ("Katherine Johnson", "katherine.johnson"),
    ("Edsger Dijkstra", "edsger.dijkstra"),
    ("Barbara Liskov", "barbara.liskov"),
    ("Donald Knuth", "donald.knuth"),
    ("Frances Allen", "frances.allen"),
    ("Ken Thompson", "ken.thompson"),
    ("Margaret Hamilton", "margaret.hamilton"),
    ("Dennis Ritchie", "dennis.ritchie"),
    ("Radia Perlman", "radia.perlman"),
    ("John Backus", "john.backus"),
    ("Hedy Lamarr", "hedy.lamarr"),
    ("Tim Berners-Lee", "tim.berners-lee"),
    ("Shafi Goldwasser", "shafi.goldwasser"),
    ("Leslie Lamport", "leslie.lamport"),
    ("Adele Goldberg", "adele.goldberg"),
    ("Niklaus Wirth", "niklaus.wirth"),
    ("Sophie Wilson", "sophie.wilson"),
]
# Credential k of a team: half service accounts, 30% client credentials, 20% API keys.
KINDS = ["service_account"] * 5 + ["oauth_client"] * 3 + ["api_key"] * 2
PREFIXES = {"service_account": "sa_bench_", "oauth_client": "tng_sbx_cid_", "api_key": "tng_sbx_ak_"}
# Mostly views, as in a real portal.
ACTIONS = ["viewed"] * 11 + ["created"] * 3 + ["updated"] * 4 + ["deactivated"] * 2


def columns() -> tuple[str, ...]:
    """The history table's columns as the bench fills them (after Django is set up)."""
    from credentials import history

    return (*history.CHAINED_FIELDS, "row_hash")


ONE_CREDENTIAL = "Payroll reconciler"
A_WORD = "payroll"
NO_MATCH = "no such credential"


def history_rows(main_id: int, other_ids: list[int], rows: int) -> Iterator[tuple[object, ...]]:
    """2 x rows history rows in time order: every other row is the main team's."""
    rnd = random.Random(20261128)  # repeatable bench data
    total = 2 * rows
    step = SPAN / total
    for i in range(total):
        team_id = main_id if i % 2 == 0 else other_ids[(i // 2) % len(other_ids)]
        k = rnd.randrange(len(NAMES))
        kind = KINDS[k % len(KINDS)]
        name, login = PEOPLE[rnd.randrange(len(PEOPLE))]
        yield (
            team_id,
            START + step * i,
            ACTIONS[rnd.randrange(len(ACTIONS))],
            kind,
            NAMES[k],
            f"{PREFIXES[kind]}{team_id:03d}{k:04d}",
            None,
            name,
            f"{login}@team{team_id}.example",
            None,
            "{}",
            "",
            f"{i:064x}",  # any 64-character value: the chain is not what is measured
        )


def build(rows: int) -> None:
    from django.db import connection, transaction

    from credentials.models import CredentialHistory
    from tango_portal.models import Membership, Team, User

    started = time.perf_counter()
    with transaction.atomic():
        main = Team.objects.create(name="Bench Main", slug="bench-main", oauth_enabled=True)
        others = Team.objects.bulk_create(
            [Team(name=f"Bench Team {n:02d}", slug=f"bench-team-{n:02d}") for n in range(1, OTHER_TEAMS + 1)]
        )
        auditor = User.objects.create_user("bench-auditor@example.com", None, full_name="Bench Auditor")
        Membership.objects.create(
            user=auditor, team=main, api_keys_permission=Membership.ApiKeysPermission.VIEW
        )
        User.objects.create_superuser("bench-staff@example.com", None, full_name="Bench Staff")
        source = history_rows(main.pk, [team.pk for team in others], rows)
        table_name = CredentialHistory._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY is the fastest way in; the append-only triggers only refuse changes.
                with cursor.cursor.copy(f"COPY {table_name} ({', '.join(columns())}) FROM STDIN") as copy:
                    for row in source:
                        copy.write_row(row)
            else:
                adapt = connection.ops.adapt_datetimefield_value
                placeholders = ", ".join("%s" for _ in columns())
                sql = f"INSERT INTO {table_name} ({', '.join(columns())}) VALUES ({placeholders})"
                batch: list[tuple[object, ...]] = []
                for row in source:
                    batch.append((row[0], adapt(row[1]), *row[2:]))
                    if len(batch) == 10_000:
                        cursor.executemany(sql, batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
    with connection.cursor() as cursor:
        # Fresh statistics (and, on PostgreSQL, a visibility map for index-only scans), as
        # autovacuum would give a long-lived table.
        cursor.execute(f"VACUUM ANALYZE {table_name}" if connection.vendor == "postgresql" else "ANALYZE")
    print(f"Built {2 * rows:,} history rows in {time.perf_counter() - started:.0f} s.", flush=True)


def data_ready(rows: int) -> bool:
    from credentials.models import CredentialHistory
    from tango_portal.models import Team

    main = Team.objects.filter(slug="bench-main").first()
    if main is None:
        return False
    return (
        CredentialHistory.objects.filter(team=main).count() == rows
        and CredentialHistory.objects.count() == 2 * rows
    )


def export_run(client, params: dict[str, str], trace: bool) -> tuple[int, float, int, int]:
    """Stream one export; return (rows, seconds, bytes, peak traced bytes)."""
    gc.collect()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    response = client.get(PORTAL, {**params, "_export": "csv"})
    assert response.status_code == 200, response.status_code
    lines = size = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    # Minus the heading and the closing chain-head line.
    return lines - 2, seconds, size, peak


def run(vendor: str, rows: int, runs: int, rebuild: bool) -> None:
    if rebuild:
        drop_database(vendor, DB_NAME)
    setup_django(vendor, DB_NAME)
    from django.db import connection, connections

    if not data_ready(rows):
        from credentials.models import CredentialHistory
        from tango_portal.models import Team

        if Team.objects.exists() or CredentialHistory.objects.exists():
            # Another size was built before: history cannot be deleted, so start afresh.
            connections.close_all()
            drop_database(vendor, DB_NAME)
            setup_django_again(vendor)
        build(rows)

    from django.test import Client
    from django.utils import timezone

    from credentials.models import CredentialHistory
    from tango_portal.models import Team, User

    portal = Client()
    portal.force_login(User.objects.get(email="bench-auditor@example.com"))
    admin = Client()
    admin.force_login(User.objects.get(email="bench-staff@example.com"))
    main = Team.objects.get(slug="bench-main")

    def timed(client, url: str, params: dict[str, str]) -> float:
        def get() -> None:
            response = client.get(url, params)
            assert response.status_code == 200, (url, params, response.status_code)

        return median_ms(get, runs)

    views = [
        ("first page, newest first", {}, {}),
        ("first page, type = API key", {"credential_type": "api_key"}, {"credential_type__exact": "api_key"}),
        (f'name search, one credential "{ONE_CREDENTIAL}"', {"name": ONE_CREDENTIAL}, {"q": ONE_CREDENTIAL}),
        (f'name search, a word "{A_WORD}"', {"name": A_WORD}, {"q": A_WORD}),
        (f'name search, no match "{NO_MATCH}"', {"name": NO_MATCH}, {"q": NO_MATCH}),
        ("page 1,000 (25 a page), newest first", {"page": "1000"}, None),
    ]
    results: list[tuple[str, float, float | None]] = []
    for label, portal_params, admin_params in views:
        portal_ms = timed(portal, PORTAL, portal_params)
        admin_ms = timed(admin, ADMIN, admin_params) if admin_params is not None else None
        results.append((label, portal_ms, admin_ms))
        print(f"  measured: {label}", file=sys.stderr, flush=True)

    # About 10,000 rows: whole days back from the newest row.
    newest = CredentialHistory.objects.filter(team=main).order_by("-occurred_at", "-id")
    day = timezone.localtime(newest.values_list("occurred_at", flat=True)[9_999]).date()
    small = {"date_from": day.isoformat()}
    exports = []
    for label, params, repeat in (("export, recent days", small, 3), ("export, all the team's rows", {}, 1)):
        timings = [export_run(portal, params, trace=False) for _ in range(repeat)]
        count, seconds, size, _ = sorted(timings, key=lambda timing: timing[1])[len(timings) // 2]
        _, _, _, peak = export_run(portal, params, trace=True)
        exports.append((label, count, seconds, size, peak))
        print(f"  measured: {label}", file=sys.stderr, flush=True)

    version = connection.cursor().connection.info.server_version if vendor == "postgres" else None
    engine = f"PostgreSQL {version // 10000}.{version % 10000}" if version else f"SQLite {sqlite_version()}"
    print()
    print(f"Credential history benchmark: {engine}")
    print(f"{rows:,} rows for the team + {rows:,} over {OTHER_TEAMS} other teams ({2 * rows:,} in all)")
    print(f"Machine: {machine()}")
    print(f"Server time in-process (Django test Client, DEBUG off), median of {runs} runs")
    print()
    print(
        table(
            ["view", "portal ms", "admin ms", "admin / portal"],
            [
                (
                    label,
                    f"{portal_ms:.1f}",
                    f"{admin_ms:.1f}" if admin_ms is not None else "-",
                    f"{admin_ms / portal_ms:.0f}x" if admin_ms is not None else "-",
                )
                for label, portal_ms, admin_ms in results
            ],
        )
    )
    print()
    print(
        table(
            ["export (CSV, streamed)", "rows", "seconds", "rows/s", "MB out", "peak memory"],
            [
                (
                    label,
                    f"{count:,}",
                    f"{seconds:.2f}",
                    f"{count / seconds:,.0f}",
                    f"{size / 1e6:.1f}",
                    f"{peak / 1024:,.0f} KiB",
                )
                for label, count, seconds, size, peak in exports
            ],
        )
    )
    first, by_type = results[0][1], results[1]
    page_1000 = results[-1][1]
    memory_ratio = exports[1][4] / exports[0][4]
    first_pages = [portal_ms for label, portal_ms, _ in results if label.startswith(("first", "name"))]

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    print()
    print("Ratios and targets")
    if vendor == "postgres":
        print(
            f"  slowest first-page view: {max(first_pages):.1f} ms "
            f"(target < 50 ms on PostgreSQL): {verdict(max(first_pages) < 50)}"
        )
    else:
        print(f"  slowest first-page view: {max(first_pages):.1f} ms (the 50 ms target is PostgreSQL's)")
    assert by_type[2] is not None
    type_ratio = by_type[2] / by_type[1]
    print(f"  type filter, admin / portal: {type_ratio:.0f}x (target >= 10x): {verdict(type_ratio >= 10)}")
    print(
        f"  page 1,000 / page 1: {page_1000 / first:.2f}x (target <= 2x): {verdict(page_1000 / first <= 2)}"
    )
    print(
        f"  export peak memory, {exports[1][1]:,} rows / {exports[0][1]:,} rows: {memory_ratio:.2f}x "
        f"(target <= 1.5x): {verdict(memory_ratio <= 1.5)}"
    )


def setup_django_again(vendor: str) -> None:
    """Recreate the (dropped) bench database and migrate it, in the already running Django."""
    from django.core.management import call_command

    from bench._common import ensure_database

    ensure_database(vendor, DB_NAME)
    call_command("migrate", verbosity=0)


def sqlite_version() -> str:
    import sqlite3

    return sqlite3.sqlite_version


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows for the team (as many again for others)"
    )
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per view (the median is shown)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the bench database even if it fits")
    args = parser.parse_args()
    if args.rows < 10_000:
        parser.error("--rows must be at least 10,000 (an export of 10,000 rows is measured)")
    if args.db == "both":
        for vendor in ("postgres", "sqlite"):
            command = [
                sys.executable,
                __file__,
                "--db",
                vendor,
                "--rows",
                str(args.rows),
                "--runs",
                str(args.runs),
            ]
            code = subprocess.call([*command, *(["--rebuild"] if args.rebuild else [])])
            if code:
                return code
        return 0
    run(args.db, args.rows, args.runs, args.rebuild)
    return 0


if __name__ == "__main__":
    sys.exit(main())
