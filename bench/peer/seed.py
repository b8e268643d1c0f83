"""Seed the reference project's database: python -m bench.peer.seed ACCOUNTS.

Migrates, then creates one confidential password-grant application and ACCOUNTS users,
and prints one JSON line: client_id, client_secret, password, usernames. Each token
request of a run uses its own user. The client secret and the users' common password
are hashed once and the hashes stored as they are: a run measures verifying them.
"""

import json
import os
import secrets
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.peer.settings")


def main(accounts: int) -> None:
    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0)
    application_model = get_application_model()
    client_secret = secrets.token_urlsafe(32)
    application = application_model.objects.create(
        name="Bench client",
        client_type=application_model.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application_model.GRANT_PASSWORD,
        # Already a hash, which DOT's ClientSecretField keeps as it is.
        client_secret=make_password(client_secret),
        hash_client_secret=True,
    )
    password = secrets.token_urlsafe(32)
    password_hash = make_password(password)
    usernames = [f"bench-{number:06d}" for number in range(accounts)]
    User.objects.bulk_create(
        [User(username=username, password=password_hash) for username in usernames], batch_size=2000
    )
    # Fresh statistics, as a database that grew by use has: the planner then sees the real table.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        json.dumps(
            {
                "client_id": application.client_id,
                "client_secret": client_secret,
                "password": password,
                "usernames": usernames,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
