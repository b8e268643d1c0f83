"""Walk every team's history hash chain and name the first broken row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials.models import CredentialHistory
from tango_portal.core.chain import ChainReport, verify
from tango_portal.models import Team, TeamActivity


def chains(team: Team) -> list[ChainReport]:
    return [verify(CredentialHistory, team.pk), verify(TeamActivity, team.pk)]


class Command(BaseCommand):
    help = "Verify the tamper-evident history chains; exits non-zero naming the first broken row."

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

    def handle(self, *args: Any, **options: Any) -> None:
        teams = Team.objects.order_by("slug")
        if options["expect_head"] and not options["team"]:
            raise CommandError("--expect-head needs --team.")
        if options["team"]:
            teams = teams.filter(slug=options["team"])
            if not teams.exists():
                raise CommandError(f"No team with slug {options['team']!r}.")
        broken: list[str] = []
        for team in teams:
            for report in chains(team):
                if report.ok:
                    self.stdout.write(
                        f"OK      {team.slug}: {report.record}, {report.rows} rows, head {report.head or '-'}"
                    )
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
