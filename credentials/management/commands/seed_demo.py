"""Create the demo teams and users. Safe to run again: it only fills in what is missing."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from credentials import services
from credentials.models import OAuthClient, ServiceAccount
from tango_portal.models import Membership, Team, User

DEFAULT_PASSWORD = "tango-demo-2026"  # noqa: S105  (a published demo password)

Role = Membership.Role
Perm = Membership.ApiKeysPermission

TEAMS = [
    ("Acme Rewards", "acme-rewards", True),
    ("Globex", "globex", True),
]
USERS = [
    ("admin@example.com", "Ada Admin", "acme-rewards", Role.ADMIN, Perm.MANAGE),
    ("manager@example.com", "Manny Manager", "acme-rewards", Role.MEMBER, Perm.MANAGE),
    ("auditor@example.com", "Audrey Auditor", "acme-rewards", Role.MEMBER, Perm.VIEW),
    ("member@example.com", "Mel Member", "acme-rewards", Role.MEMBER, Perm.NONE),
    ("globex-admin@example.com", "Gloria Globex", "globex", Role.ADMIN, Perm.MANAGE),
]
LEGACY_CREATED_AT = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


class Command(BaseCommand):
    help = "Create the demo teams (Acme Rewards, Globex) and their users. Idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even with DJANGO_DEBUG off.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates accounts with a published password; it refuses to run with "
                "DJANGO_DEBUG off. Pass --force if you really mean it."
            )
        password = os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        with transaction.atomic():
            teams = {}
            for name, slug, oauth in TEAMS:
                team, _ = Team.objects.get_or_create(
                    slug=slug, defaults={"name": name, "oauth_enabled": oauth}
                )
                teams[slug] = team
            for email, full_name, slug, role, permission in USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(email=email, password=password, full_name=full_name)
                elif not user.check_password(password):
                    user.set_password(password)
                    user.save(update_fields=["password"])
                Membership.objects.get_or_create(
                    user=user, team=teams[slug], defaults={"role": role, "api_keys_permission": permission}
                )
        acme = teams["acme-rewards"]
        admin = User.objects.get(email="admin@example.com")
        # The demo secrets are thrown away: nobody needs them, and nothing may keep them.
        if not OAuthClient.objects.filter(team=acme, legacy=True).exists():
            services.oauth_client_create(
                actor=admin, team=acme, display_name="Legacy order server", created_at=LEGACY_CREATED_AT
            )
        if not ServiceAccount.objects.filter(team=acme).exists():
            services.service_account_create(actor=admin, team=acme, display_name="Order server")
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {password})")
        for email, _name, slug, role, permission in USERS:
            self.stdout.write(
                f"  {email:<28} {teams[slug].name:<14} {role.label:<7} Tango API keys: {permission.label}"
            )
