from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from credentials.models import CredentialHistory, OAuthClient
from tango_portal.models import Membership, Team, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_creates_the_demo_teams(settings, monkeypatch, capsys):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password 123")
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "admin@example.com" in out
    assert "a demo password 123" in out
    assert set(Team.objects.values_list("name", flat=True)) == {"Acme Rewards", "Globex"}
    assert Team.objects.get(slug="acme-rewards").oauth_enabled
    expected = {
        "admin@example.com": ("acme-rewards", "admin", "manage"),
        "manager@example.com": ("acme-rewards", "member", "manage"),
        "auditor@example.com": ("acme-rewards", "member", "view"),
        "member@example.com": ("acme-rewards", "member", "none"),
        "globex-admin@example.com": ("globex", "admin", "manage"),
    }
    got = {
        m.user.email: (m.team.slug, m.role, m.api_keys_permission)
        for m in Membership.objects.select_related("user", "team")
    }
    assert got == expected
    assert User.objects.count() == 5
    assert User.objects.get(email="auditor@example.com").check_password("a demo password 123")
    legacy = OAuthClient.objects.get(team__slug="acme-rewards", legacy=True)
    assert legacy.created_at.year == 2025
    assert OAuthClient.objects.count() == 1
    # Seeding twice wrote history once.
    assert CredentialHistory.objects.filter(action="created").count() == 2


def test_seed_demo_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo")
    assert not Team.objects.exists()
    call_command("seed_demo", "--force")
    assert Team.objects.count() == 2
