"""Seed the portal's bench database: python -m bench.portal_seed ACCOUNTS.

Migrates, then creates a team with OAuth enabled, one client credential and ACCOUNTS
service accounts, and prints one JSON line: client_id, client_secret, password,
password_hash, usernames. Each token request of a run uses its own account (the portal
issues at most one token a day per client, account and audience). All accounts share
one password, hashed once; rows are bulk-inserted without history, which a benchmark
does not need.
"""

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.portal_settings")


def main(accounts: int) -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from credentials import secrets
    from credentials.models import OAuthClient, ServiceAccount
    from tango_portal.accounts.hashers import PortalArgon2PasswordHasher
    from tango_portal.models import Team, User

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="Bench team", slug="bench-team", oauth_enabled=True)
    user = User.objects.create_user("bench@example.com", full_name="Bench Runner")
    client_secret = secrets.generate(secrets.Kind.CLIENT_SECRET)
    client = OAuthClient.objects.create(
        team=team,
        client_id=secrets.generate_public_id(secrets.Kind.CLIENT_ID),
        secret_digest=secrets.digest(client_secret),
        display_name="Bench client",
        created_by=user,
    )
    password = secrets.generate(secrets.Kind.SERVICE_ACCOUNT_PASSWORD)
    hasher = PortalArgon2PasswordHasher()
    password_hash = hasher.encode(password, hasher.salt())
    usernames = [f"sa_bench_{number:06d}" for number in range(accounts)]
    ServiceAccount.objects.bulk_create(
        [
            ServiceAccount(team=team, username=username, password_hash=password_hash, created_by=user)
            for username in usernames
        ],
        batch_size=2000,
    )
    # Fresh statistics, as a database that grew by use has: the planner then sees the real table.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        json.dumps(
            {
                "client_id": client.client_id,
                "client_secret": client_secret,
                "password": password,
                "password_hash": password_hash,
                "usernames": usernames,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
