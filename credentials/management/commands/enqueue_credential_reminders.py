"""Enqueue the daily credential reminder check (run it once a day, e.g. from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from credentials.reminders import send_credential_reminders


class Command(BaseCommand):
    help = (
        "Enqueue today's check for credentials due for rotation within 30 or 7 days, or unused for "
        "90 days; the worker (manage.py db_worker) emails the teams' Manage users. Run it daily: "
        "each reminder is sent once, however often the check runs."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = send_credential_reminders.enqueue()
        self.stdout.write(f"Enqueued the credential reminder check (task {result.id}).")
