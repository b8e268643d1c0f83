"""Enqueue the daily credential reminder check and usage housekeeping (run it once a day, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from credentials.reminders import send_credential_reminders
from credentials.usage import purge_usage_evidence


class Command(BaseCommand):
    help = (
        "Enqueue today's check for credentials due for rotation within 30 or 7 days, or unused for "
        "90 days; the worker (manage.py db_worker) emails the teams' Manage users. Run it daily: "
        "each reminder is sent once, however often the check runs. Also drops usage evidence older "
        "than 90 days."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = send_credential_reminders.enqueue()
        self.stdout.write(f"Enqueued the credential reminder check (task {result.id}).")
        purge = purge_usage_evidence.enqueue()
        self.stdout.write(f"Enqueued the usage evidence housekeeping (task {purge.id}).")
