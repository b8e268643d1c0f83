"""Sign a checkpoint of every team's history chain heads (run daily by the operator's timer)."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tango_portal.core import chain
from tango_portal.models import Team


class Command(BaseCommand):
    help = (
        "Sign the head of each team's credential history and team activity with HISTORY_SIGNING_KEY "
        "and store the checkpoint; verify_history checks them. Run at least daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json",
            action="store_true",
            help=(
                "Print each checkpoint as a JSON line, to keep outside the database "
                "(verify_history --checkpoints FILE reads them back)."
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            chain.signing_key()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        for team in Team.objects.order_by("slug"):
            for record in chain.chained_records():
                signed = chain.sign_head(record, team.pk)
                label = record._meta.verbose_name_plural
                if options["json"]:
                    if signed is not None:
                        self.stdout.write(json.dumps(signed.as_json(), sort_keys=True))
                elif signed is None:
                    self.stdout.write(f"EMPTY   {team.slug}: {label}, nothing to sign")
                else:
                    self.stdout.write(
                        f"SIGNED  {team.slug}: {label} up to row id {signed.head_id}, "
                        f"head {signed.head_hash}, {signed.source}"
                    )
