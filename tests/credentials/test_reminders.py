"""Reminders by email: 30 and 7 days before a credential is due for rotation, and after 90 days
unused; to the team's Manage users only; each once; sent by the worker from the daily check."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from credentials import reminders, services
from credentials.models import ApiKey, CredentialReminder, OAuthClient, ReminderKind, ServiceAccount
from tango_portal.models import Membership, Team
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

BASE = "https://portal.example.com"
ROOT = Path(__file__).resolve().parents[2]
Kind = ReminderKind


@pytest.fixture(autouse=True)
def _base_url(settings):
    settings.PORTAL_BASE_URL = BASE


def _age(credential, *, created_days: float, used_days: float | None = None) -> None:
    now = timezone.now()
    type(credential).objects.filter(pk=credential.pk).update(
        created_at=now - timedelta(days=created_days),
        last_used_at=None if used_days is None else now - timedelta(days=used_days),
    )
    credential.refresh_from_db()


def _set_age(team: Team, days: int | None) -> None:
    Team.objects.filter(pk=team.pk).update(max_credential_age_days=days)
    team.refresh_from_db()


@pytest.fixture
def people(team, other_team, admin_user, manager, auditor, member, outsider):
    """Everyone around the team; of them only admin_user and manager have Manage in it."""
    MembershipFactory(
        team=team,
        api_keys_permission=Membership.ApiKeysPermission.MANAGE,
        user__email="gone@example.com",
        user__is_active=False,
    )
    return {"manage": {admin_user.email, manager.email}}


@pytest.fixture
def due(team, manager, people):
    """Under a 365-day policy: a client due in 25 days, a service account due in 5 days, an API
    key unused for 100 days; and what gets nothing: a young account, a deleted old one."""
    _set_age(team, 365)
    client, client_secret = services.oauth_client_create(actor=manager, team=team, display_name="Shop client")
    _age(client, created_days=340, used_days=1)
    account, password = services.service_account_create(actor=manager, team=team, display_name="Order server")
    _age(account, created_days=360, used_days=2)
    key, key_value = services.api_key_create(actor=manager, team=team, platform_name="Legacy shop")
    _age(key, created_days=100)
    young, _ = services.service_account_create(actor=manager, team=team, display_name="Young")
    _age(young, created_days=3)
    deleted, _ = services.service_account_create(actor=manager, team=team, display_name="Deleted")
    _age(deleted, created_days=360)
    services.service_account_delete(actor=manager, team=team, account=deleted)
    return {
        "client": client,
        "account": account,
        "key": key,
        "secrets": [client_secret, password, key_value, client.secret_digest, key.digest],
    }


def _by_name(messages) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in messages:
        for name in ("Shop client", "Order server", "Legacy shop"):
            if f'"{name}"' in message.subject:
                found.setdefault(name, []).append(message)
    return found


# --- End to end: the command enqueues, the worker sends ---------------------------------


def _run_the_daily_check() -> None:
    call_command("enqueue_credential_reminders", stdout=open(os.devnull, "w"))  # noqa: SIM115
    call_command("db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_the_daily_check_emails_the_manage_users_once(team, due, people):
    _run_the_daily_check()

    task = DBTaskResult.objects.get(task_path="credentials.reminders.send_credential_reminders")
    housekeeping = DBTaskResult.objects.get(task_path="credentials.usage.purge_usage_evidence")
    assert housekeeping.status == "SUCCESSFUL"
    assert task.status == "SUCCESSFUL"
    assert task.return_value == {"sent": 3, "failed": 0}

    # One email per reminder and recipient, each to one person: the Manage users, no one else.
    assert {tuple(message.to) for message in mail.outbox} == {(email,) for email in people["manage"]}
    found = _by_name(mail.outbox)
    assert {name: len(messages) for name, messages in found.items()} == {
        "Shop client": 2,
        "Order server": 2,
        "Legacy shop": 2,
    }
    client, account = due["client"], due["account"]
    [shop, *_] = found["Shop client"]
    assert shop.subject == (
        "[Tango Portal Sandbox] Acme Rewards: "
        'OAuth client credential "Shop client" is due for rotation in 25 days'
    )
    assert f"{BASE}/team/api-credentials/clients/{client.pk}/" in shop.body
    assert client.client_id in shop.body
    assert "maximum credential age of 365 days" in shop.body
    [order, *_] = found["Order server"]
    assert "is due for rotation in 5 days" in order.subject
    assert f"{BASE}/team/api-credentials/service-accounts/{account.pk}/" in order.body
    assert account.username in order.body
    [legacy, *_] = found["Legacy shop"]
    assert 'API key "Legacy shop" has not been used for 90 days' in legacy.subject
    assert f"{BASE}/team/api-credentials/api-keys/{due['key'].pk}/" in legacy.body
    assert "never been used" in legacy.body
    for message in mail.outbox:
        assert "Acme Rewards" in message.subject and "Acme Rewards" in message.body
        assert message.from_email == "Tango Portal <no-reply@localhost>"
        for secret in due["secrets"]:
            assert secret not in message.subject and secret not in message.body
        assert ServiceAccount.objects.get(pk=account.pk).password_hash not in message.body

    assert {(row.credential_type, row.kind) for row in CredentialReminder.objects.all()} == {
        ("oauth_client", Kind.ROTATION_IN_30_DAYS),
        ("service_account", Kind.ROTATION_IN_7_DAYS),
        ("api_key", Kind.UNUSED_FOR_90_DAYS),
    }

    # Tomorrow's check (or a second cron line) sends nothing it sent before.
    _run_the_daily_check()
    assert len(mail.outbox) == 6
    assert CredentialReminder.objects.count() == 3
    assert DBTaskResult.objects.filter(status="SUCCESSFUL").count() == 4  # two checks, two housekeepings


def test_the_command_only_enqueues(team, due):
    out = []

    class Out:
        def write(self, text: str) -> None:
            out.append(text)

    call_command("enqueue_credential_reminders", stdout=Out())
    tasks = DBTaskResult.objects.all()
    assert {task.task_path for task in tasks} == {
        "credentials.reminders.send_credential_reminders",
        "credentials.usage.purge_usage_evidence",
    }
    for task in tasks:
        assert task.status == "READY"
        assert str(task.id) in "".join(out)
    assert mail.outbox == []
    assert not CredentialReminder.objects.exists()


# --- What calls for a reminder ---------------------------------------------------------


def _kinds(team: Team, *, now=None) -> dict[str, str]:
    return {
        str(reminder.credential): reminder.kind
        for reminder in reminders.reminders_for_team(team=team, now=now or timezone.now())
    }


def test_the_nearer_reminder_replaces_the_earlier_and_a_due_one_gets_none(team, manager):
    _set_age(team, 90)
    for name, created in (("31 left", 59), ("29 left", 61), ("8 left", 82), ("6 left", 84), ("overdue", 91)):
        account, _ = services.service_account_create(actor=manager, team=team, display_name=name)
        _age(account, created_days=created, used_days=1)
    assert _kinds(team) == {
        "29 left": Kind.ROTATION_IN_30_DAYS,
        "8 left": Kind.ROTATION_IN_30_DAYS,
        "6 left": Kind.ROTATION_IN_7_DAYS,
    }


def test_without_a_policy_only_unused_credentials_are_reminded_of(team, manager):
    _set_age(team, None)
    old, _ = services.service_account_create(actor=manager, team=team, display_name="Old, used")
    _age(old, created_days=1000, used_days=1)
    idle, _ = services.oauth_client_create(actor=manager, team=team, display_name="Idle")
    _age(idle, created_days=1000, used_days=91)
    almost, _ = services.api_key_create(actor=manager, team=team, platform_name="Almost idle")
    _age(almost, created_days=1000, used_days=89)
    assert _kinds(team) == {"Idle": Kind.UNUSED_FOR_90_DAYS}


def test_the_7_day_reminder_follows_the_30_day_one(team, manager, people):
    _set_age(team, 90)
    account, _ = services.service_account_create(actor=manager, team=team, display_name="Order server")
    _age(account, created_days=61, used_days=1)
    now = timezone.now()
    assert reminders.send_team_reminders(team=team, now=now) == (1, 0)
    assert reminders.send_team_reminders(team=team, now=now + timedelta(hours=12)) == (0, 0)
    assert reminders.send_team_reminders(team=team, now=now + timedelta(days=23)) == (1, 0)
    assert reminders.send_team_reminders(team=team, now=now + timedelta(days=24)) == (0, 0)
    assert [message.subject.rsplit(" in ", 1)[1] for message in mail.outbox] == [
        "29 days",
        "29 days",
        "6 days",
        "6 days",
    ]
    assert sorted(CredentialReminder.objects.values_list("kind", flat=True)) == [
        Kind.ROTATION_IN_30_DAYS,
        Kind.ROTATION_IN_7_DAYS,
    ]


def test_a_new_policy_is_a_new_due_day_and_a_new_reminder(team, manager, people):
    _set_age(team, 90)
    account, _ = services.service_account_create(actor=manager, team=team)
    _age(account, created_days=85, used_days=1)
    now = timezone.now()
    assert reminders.send_team_reminders(team=team, now=now) == (1, 0)
    _set_age(team, 180)
    later = now + timedelta(days=90)
    ServiceAccount.objects.filter(pk=account.pk).update(last_used_at=later - timedelta(days=1))
    assert reminders.send_team_reminders(team=team, now=later) == (1, 0)
    assert reminders.send_team_reminders(team=team, now=later) == (0, 0)
    rows = CredentialReminder.objects.order_by("sent_at")
    assert [row.kind for row in rows] == [Kind.ROTATION_IN_7_DAYS, Kind.ROTATION_IN_7_DAYS]
    assert rows[1].due_on - rows[0].due_on == timedelta(days=90)


def test_a_credential_used_again_then_left_idle_is_reminded_of_again(team, manager, people):
    _set_age(team, None)
    client, _ = services.oauth_client_create(actor=manager, team=team)
    _age(client, created_days=500, used_days=95)
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (1, 0)
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (0, 0)
    OAuthClient.objects.filter(pk=client.pk).update(last_used_at=timezone.now() - timedelta(days=91))
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (1, 0)


def test_deactivated_credentials_are_never_reminded_of(team, manager, people):
    _set_age(team, 365)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Old")
    _age(key, created_days=360)
    services.api_key_deactivate(actor=manager, team=team, key=ApiKey.objects.get(pk=key.pk))
    assert reminders.reminders_for_team(team=team, now=timezone.now()) == []


def test_a_team_without_manage_users_gets_nothing_and_keeps_its_reminders(team, manager, auditor):
    _set_age(team, None)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Idle")
    _age(key, created_days=200)
    Membership.objects.filter(team=team, api_keys_permission=Membership.ApiKeysPermission.MANAGE).update(
        api_keys_permission=Membership.ApiKeysPermission.VIEW
    )
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (0, 0)
    assert mail.outbox == []
    assert not CredentialReminder.objects.exists()
    Membership.objects.filter(user=manager, team=team).update(
        api_keys_permission=Membership.ApiKeysPermission.MANAGE
    )
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (1, 0)
    assert [message.to for message in mail.outbox] == [[manager.email]]


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the mail server is down")


def test_a_reminder_that_could_not_be_sent_is_tried_again_the_next_day(team, manager, people, settings):
    _set_age(team, None)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Idle")
    _age(key, created_days=200)
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FailingBackend"}}
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (0, 1)
    assert not CredentialReminder.objects.exists()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert reminders.send_team_reminders(team=team, now=timezone.now()) == (1, 0)
    assert len(mail.outbox) == 2


def test_the_database_takes_each_reminder_once(team, manager):
    from django.db import IntegrityError, transaction

    fields = {
        "team": team,
        "credential_type": "api_key",
        "credential_pk": 1,
        "kind": Kind.UNUSED_FOR_90_DAYS,
        "due_on": timezone.localdate(),
    }
    CredentialReminder.objects.create(**fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        CredentialReminder.objects.create(**fields)


# --- Mail settings ---------------------------------------------------------------------


def _mailer(**env: str) -> str:
    script = (
        "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='tango_portal.settings';django.setup();"
        "from django.conf import settings as s;m=s.MAILERS['default'];"
        "print(m['BACKEND'], m.get('OPTIONS', {}).get('port'), m.get('OPTIONS', {}).get('use_tls'))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    base["DJANGO_SECRET_KEY"] = "k" * 50
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout.strip() or result.stderr.strip().splitlines()[-1]


def test_the_mailer_is_the_console_with_debug_and_smtp_without():
    assert _mailer(DJANGO_DEBUG="1") == "django.core.mail.backends.console.EmailBackend None None"
    assert _mailer(DJANGO_DEBUG="0") == "django.core.mail.backends.smtp.EmailBackend 587 True"
    assert _mailer(DJANGO_DEBUG="1", DJANGO_MAILER="smtp", DJANGO_SMTP_SECURITY="ssl") == (
        "django.core.mail.backends.smtp.EmailBackend 465 False"
    )
    assert "DJANGO_MAILER must be" in _mailer(DJANGO_DEBUG="1", DJANGO_MAILER="carrier-pigeon")
