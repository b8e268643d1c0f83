"""Walk every team's history hash chain and name the first broken row."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credentials import history
from credentials.chain import ChainReport, verify_chain
from credentials.models import CredentialHistory
from tango_portal import activity
from tango_portal.models import Team, TeamActivity


def chains(team: Team) -> list[ChainReport]:
    reports = [
        verify_chain(
            model=CredentialHistory,
            team_id=team.pk,
            fields=history.CHAINED_FIELDS,
            record="credential history",
        ),
        verify_chain(
            model=TeamActivity,
            team_id=team.pk,
            fields=activity.CHAINED_FIELDS,
            record="team activity",
        ),
    ]
    return reports


class Command(BaseCommand):
    help = "Verify the tamper-evident history chains; exits non-zero naming the first broken row."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", metavar="SLUG", help="Only this team.")

    def handle(self, *args: Any, **options: Any) -> None:
        teams = Team.objects.order_by("slug")
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
        if broken:
            raise CommandError(f"{len(broken)} broken chain(s); first: {broken[0].split(':', 1)[1].strip()}")
