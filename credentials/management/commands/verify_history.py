"""Walk every team's history hash chains, check their signed checkpoints, name the first break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.models import CredentialHistory
from tango_portal.core import chain
from tango_portal.core.chain import ChainReport, SignedHead
from tango_portal.models import Team

CHECKPOINT_LINE = "# checkpoint="


def read_checkpoints(path: str) -> list[SignedHead]:
    """The checkpoints kept in a file outside the database: a JSON or CSV history export,
    or the JSON lines `sign_history_checkpoints --json` printed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot read {path}: {error.strerror}.") from None
    found: list[SignedHead] = []
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if isinstance(whole, dict) and "checkpoint" in whole:
        data = whole["checkpoint"]
        try:
            return [SignedHead.from_json(data, source=f"checkpoint in {path}")] if data else []
        except ValueError as error:
            raise CommandError(str(error)) from None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip().removeprefix(CHECKPOINT_LINE)
        if not line.startswith("{"):
            continue
        try:
            found.append(SignedHead.from_json(json.loads(line), source=f"checkpoint at {path}:{number}"))
        except ValueError as error:
            raise CommandError(str(error)) from None
    return found


def describe(report: ChainReport) -> str:
    if report.checkpoints is None:
        return ""
    if not report.checkpoints:
        return ", no signed checkpoint yet"
    return f", {report.checkpoints} signed checkpoint(s) hold, signed up to row id {report.signed_up_to}"


class Command(BaseCommand):
    help = (
        "Verify the tamper-evident history chains and their signed checkpoints (with the public "
        "key, HISTORY_VERIFY_KEY); exits non-zero naming the first break."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", metavar="SLUG", help="Only this team.")
        parser.add_argument(
            "--expect-head",
            metavar="HASH",
            help=(
                "With --team: a chain head an auditor kept from an export. It must still be in "
                "the team's credential history, which catches removal of the newest rows."
            ),
        )
        parser.add_argument(
            "--checkpoints",
            metavar="FILE",
            action="append",
            default=[],
            help=(
                "Signed checkpoints kept outside the database (a history export, or the output of "
                "sign_history_checkpoints --json): they must verify and the chains pass through "
                "them, which catches removal of stored checkpoints too. May be repeated."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        teams = Team.objects.order_by("slug")
        if options["expect_head"] and not options["team"]:
            raise CommandError("--expect-head needs --team.")
        if options["team"]:
            teams = teams.filter(slug=options["team"])
            if not teams.exists():
                raise CommandError(f"No team with slug {options['team']!r}.")
        public_key: Ed25519PublicKey | None
        try:
            public_key = chain.verify_key()
            missing = ""
        except chain.SigningKeyMissing as error:
            public_key, missing = None, str(error)
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        kept = [head for path in options["checkpoints"] for head in read_checkpoints(path)]
        if kept and public_key is None:
            raise CommandError(f"The kept checkpoints cannot be checked. {missing}")
        broken: list[str] = []
        for team in teams:
            for record in chain.chained_records():
                report = chain.verify(record, team.pk, public_key=public_key, kept=kept)
                if report.ok:
                    self.stdout.write(
                        f"OK      {team.slug}: {report.record}, {report.rows} rows, "
                        f"head {report.head or '-'}{describe(report)}"
                    )
                    continue
                if report.broken_checkpoint:
                    line = f"BROKEN  {team.slug}: {report.record} {report.broken_checkpoint}"
                else:
                    line = (
                        f"BROKEN  {team.slug}: {report.record} row id {report.broken_row_id}: {report.reason}"
                    )
                self.stdout.write(line)
                broken.append(line)
        expected = options["expect_head"]
        if expected and not broken:
            team = teams.get()
            if not CredentialHistory.objects.filter(team=team, row_hash=expected).exists():
                line = (
                    f"BROKEN  {team.slug}: credential history no longer contains the expected head "
                    f"{expected} (rows up to it were removed, or it is not this team's)"
                )
                self.stdout.write(line)
                broken.append(line)
            else:
                self.stdout.write(f"OK      {team.slug}: expected head {expected} is in the chain")
        if broken:
            raise CommandError(f"{len(broken)} broken chain(s); first: {broken[0].split(':', 1)[1].strip()}")
        if public_key is None:
            # The hashes alone do not show a rewrite by someone who recomputed them all.
            raise CommandError(
                f"The hash chains fit, but their signatures cannot be checked, so a rewritten and "
                f"rehashed history would pass: {missing}"
            )
