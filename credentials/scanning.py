"""Leaked-secret reports from a secret-scanning service, in GitHub's partner-program format.

A scanner that finds one of the portal's secrets in public code POSTs a JSON array of
findings, `{"token", "type", "url", "source"}` each, to /api/secret-scanning/reports. The raw
body is signed with ECDSA P-256 over SHA-256: the base64 DER signature comes in
`Github-Public-Key-Signature`, the signing key is named by `Github-Public-Key-Identifier`, and
the public keys are read from the JSON file SECRET_SCANNING_KEYS_FILE names, in the shape
GitHub publishes them (`{"public_keys": [{"key_identifier", "key", "is_current"}]}`).

`verify` checks the signature and `parse` (which reads only what `verify` let through) the
shape, each refusing the whole report with `ReportRefused` before anything changes.
`leak_reports_process` then finds each reported value by the SHA-256 digest of it (its prefix
says which table to look in) and acts by the team's policy, Team.leak_response: "revoke"
(the default) ends what leaked at once, "alert" only tells. Either way the credential's
history records `leak reported` (where it was found; never the secret), the team's Manage
users get an email, and the credential's page shows a red banner until one of them
acknowledges it (`leak_report_acknowledge`).

What each reported value is found by, and what "revoke" does:

- client secret (`_cs_`), by OAuthClient.secret_digest: the client credentials are
  deactivated and their tokens revoked;
- API key (`_ak_`), by ApiKey.digest: the key is deactivated;
- access token (`_at_`), by AccessToken.token_digest: that token ends (its server may get
  a new one at once); the report shows on its service account (its client, for a legacy
  client-credentials token);
- sign-up link (`_su_`), by SignupInvitation.token_digest: the link is revoked if unused,
  whatever the policy (an admin makes a new one in a click); no credential, so no report;
- service-account password (`_sap_`), by ServiceAccount.password_digest: the account's
  tokens end and new ones are refused until a Manage user lifts the block or deletes the
  account. (Accounts made before the digest was kept cannot be found: false_positive.)

A reported value is used for its digest and echoed once in the answer (`token_raw`, as the
partner protocol wants), and nothing else: no table, log, history row or email holds it.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from credentials import history, selectors, services
from credentials import secrets as credential_secrets
from credentials.models import (
    AccessToken,
    ApiKey,
    CredentialType,
    HistoryAction,
    LeakedSecret,
    LeakReport,
    LeakResponseTaken,
    OAuthClient,
    ServiceAccount,
)
from credentials.pages import credential_url
from credentials.permissions import require_manage
from credentials.reminders import manage_recipients
from tango_portal.core import security_log
from tango_portal.core.chain import LockedTeam, lock_team
from tango_portal.models import SignupInvitation, Team, User

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Github-Public-Key-Signature"
KEY_IDENTIFIER_HEADER = "Github-Public-Key-Identifier"
TRUE_POSITIVE = "true_positive"
FALSE_POSITIVE = "false_positive"
# The longest value each field of a finding may have; longer is a malformed report.
FIELD_LIMITS = {"token": 512, "type": 100, "url": 2000, "source": 100}

type Credential = ServiceAccount | OAuthClient | ApiKey


class ReportRefused(Exception):
    """A report refused as a whole, before anything changed: the status to answer and why.

    `counts` marks the refusals that mean the caller is not the scanner (no valid signature):
    those count against its address in the throttle.
    """

    def __init__(self, status: HTTPStatus, error: str, description: str, *, counts: bool = False) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.counts = counts


# --- The scanner's public keys and its signature ----------------------------------------


def _not_configured(description: str) -> ReportRefused:
    # 503, not 404: the scanner retries, so reports sent before the keys are in place arrive.
    return ReportRefused(HTTPStatus.SERVICE_UNAVAILABLE, "not_configured", description)


def public_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    """The scanner's P-256 public keys by key identifier, read from SECRET_SCANNING_KEYS_FILE.

    Read at each report (a small file), so replacing the file rotates the keys without a
    restart. Every key listed verifies, current or not, as the scanner may still sign with
    the previous one for a while. Raises ReportRefused (503) when the setting is unset or the
    file holds no usable key.
    """
    path = settings.SECRET_SCANNING_KEYS_FILE
    if not path:
        raise _not_configured(
            "Leaked-secret reports are not configured here: SECRET_SCANNING_KEYS_FILE is not set."
        )
    try:
        data = json.loads(Path(path).read_bytes())
    except (OSError, ValueError) as error:
        logger.error("SECRET_SCANNING_KEYS_FILE cannot be read as JSON: %s", type(error).__name__)
        raise _not_configured("The secret-scanning public keys cannot be read.") from None
    listed = data.get("public_keys") if isinstance(data, dict) else None
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for entry in listed if isinstance(listed, list) else []:
        identifier = entry.get("key_identifier") if isinstance(entry, dict) else None
        pem = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or not identifier or not isinstance(pem, str):
            continue
        try:
            key = serialization.load_pem_public_key(pem.encode())
        except ValueError:
            logger.warning("Secret-scanning key %r is not a PEM public key; ignored", identifier[:80])
            continue
        if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            keys[identifier] = key
        else:
            logger.warning("Secret-scanning key %r is not an ECDSA P-256 key; ignored", identifier[:80])
    if not keys:
        logger.error("SECRET_SCANNING_KEYS_FILE lists no usable ECDSA P-256 public key")
        raise _not_configured("The secret-scanning public keys cannot be read.")
    return keys


def _bad_signature(error: str, description: str) -> ReportRefused:
    return ReportRefused(HTTPStatus.FORBIDDEN, error, description, counts=True)


@dataclass(frozen=True)
class SignedReport:
    """A report body whose signature `verify` checked: the only thing `parse` reads."""

    body: bytes = field(repr=False)
    key_identifier: str


def verify(
    body: bytes,
    *,
    keys: dict[str, ec.EllipticCurvePublicKey],
    key_identifier: str | None,
    signature: str | None,
) -> SignedReport:
    """Check that `signature` (base64 DER, ECDSA P-256 with SHA-256) signs the raw `body` with
    the key of `keys` (`public_keys()`) named `key_identifier`.

    Raises ReportRefused (403) for a missing header, an unknown key or a signature that
    does not verify.
    """
    if not key_identifier or not signature:
        raise _bad_signature(
            "signature_missing", f"Sign the report: send {KEY_IDENTIFIER_HEADER} and {SIGNATURE_HEADER}."
        )
    key = keys.get(key_identifier)
    if key is None:
        raise _bad_signature("unknown_key", f"No public key has the identifier in {KEY_IDENTIFIER_HEADER}.")
    try:
        der = base64.b64decode(signature.strip(), validate=True)
        key.verify(der, body, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise _bad_signature("invalid_signature", "The signature does not verify over the body.") from None
    return SignedReport(body, key_identifier)


# --- The report's shape -------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One reported value and where it was seen. `token` is the plaintext: never kept, never
    logged (left out of the repr)."""

    token: str = field(repr=False)
    type: str
    url: str
    source: str


def _malformed(description: str) -> ReportRefused:
    return ReportRefused(HTTPStatus.BAD_REQUEST, "invalid_report", description)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _text_value(value: object, limit: int) -> str | None:
    """`value` if it is a string the database can hold (no NUL, no lone surrogate) within `limit`."""
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def parse(report: SignedReport) -> list[Finding]:
    """The findings of a verified report, in order. Raises ReportRefused for anything but a
    JSON array of at most SECRET_SCANNING_MAX_ENTRIES objects whose `token` (not empty),
    `type`, `url` and `source` are strings within FIELD_LIMITS; other members are ignored."""
    try:
        data = json.loads(report.body.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _malformed("The body must be JSON, in UTF-8.") from None
    if not isinstance(data, list):
        raise _malformed("The body must be a JSON array of findings.")
    if len(data) > settings.SECRET_SCANNING_MAX_ENTRIES:
        raise ReportRefused(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            "too_large",
            f"A report may carry at most {settings.SECRET_SCANNING_MAX_ENTRIES} findings.",
        )
    findings = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise _malformed(f"Finding {index} is not an object.")
        values: dict[str, str] = {}
        for name, limit in FIELD_LIMITS.items():
            value = _text_value(item.get(name), limit)
            if value is None:
                raise _malformed(f"Finding {index}: {name} must be a string of at most {limit} characters.")
            values[name] = value
        if not values["token"].strip():
            raise _malformed(f"Finding {index}: token is empty.")
        findings.append(Finding(**values))
    return findings


# --- Finding what leaked ---------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A reported value that is one of ours: which secret, the credential whose page shows the
    report, and for an access token the token itself."""

    secret: LeakedSecret
    credential: Credential
    token: AccessToken | None = None


def _client_secret(digest: str) -> Found | None:
    client = OAuthClient.objects.filter(secret_digest=digest).first()
    return Found(LeakedSecret.CLIENT_SECRET, client) if client else None


def _api_key(digest: str) -> Found | None:
    key = ApiKey.objects.filter(digest=digest).first()
    return Found(LeakedSecret.API_KEY, key) if key else None


def _service_account_password(digest: str) -> Found | None:
    account = ServiceAccount.objects.filter(password_digest=digest).first()
    return Found(LeakedSecret.SERVICE_ACCOUNT_PASSWORD, account) if account else None


def _access_token(digest: str) -> Found | None:
    token = (
        AccessToken.objects.select_related("client", "service_account").filter(token_digest=digest).first()
    )
    if token is None:
        return None
    # The token is its service account's (legacy client-credentials tokens have none).
    return Found(LeakedSecret.ACCESS_TOKEN, token.service_account or token.client, token)


# The credentials each secret prefix can be found among, by the reported value's digest.
FINDERS: dict[credential_secrets.Kind, Callable[[str], Found | None]] = {
    credential_secrets.Kind.CLIENT_SECRET: _client_secret,
    credential_secrets.Kind.API_KEY: _api_key,
    credential_secrets.Kind.ACCESS_TOKEN: _access_token,
    credential_secrets.Kind.SERVICE_ACCOUNT_PASSWORD: _service_account_password,
}


def _kind_of(value: str) -> credential_secrets.Kind | None:
    """The kind of secret `value` would be in this deployment's environment, by its prefix."""
    for kind in credential_secrets.Kind:
        if value.startswith(credential_secrets.prefix(kind)):
            return kind
    return None


# --- Acting on it ------------------------------------------------------------------------------


def _lock(credential: Credential, team: Team) -> Credential:
    # One call per type: `_locked` answers with the type it is given.
    if isinstance(credential, ServiceAccount):
        return services._locked(credential, team)
    if isinstance(credential, OAuthClient):
        return services._locked(credential, team)
    return services._locked(credential, team)


def _record_for_scanner(
    locked_team: LockedTeam[Team], action: HistoryAction, credential: Credential, details: dict[str, str]
) -> None:
    """A history row of something the scanner's report did: no person did it, so the row names
    none (its details say where the secret was found)."""
    credential_type, name, identifier = services.describe(credential)
    history.record(
        team=locked_team,
        actor=None,
        action=action,
        credential_type=credential_type,
        credential_name=name,
        credential_identifier=identifier,
        details=details,
    )


def _live_token(token: AccessToken) -> QuerySet[AccessToken]:
    return AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True, expires_at__gt=timezone.now())


def _is_live(found: Found, credential: Credential) -> bool:
    """Whether what leaked still works: the token, the password's account, the credential."""
    if found.token is not None:
        return _live_token(found.token).exists()
    if isinstance(credential, ServiceAccount):
        # A blocked account's password already gets no token.
        return not credential.is_deleted and not credential.is_blocked
    return credential.is_active


def _end_tokens(**filters: object) -> None:
    """End unexpired tokens now: revoked, and expired as of now, so that the once-a-day rule
    lets the server's next token request through (as services.service_account_revoke_tokens)."""
    now = timezone.now()
    unexpired = AccessToken.objects.filter(expires_at__gt=now, **filters)
    unexpired.filter(revoked_at__isnull=True).update(revoked_at=now, expires_at=now)
    unexpired.update(expires_at=now)


def _revoke(
    found: Found, credential: Credential, locked_team: LockedTeam[Team], details: dict[str, str]
) -> None:
    """End what leaked, under the team and credential locks taken by the caller.

    Client credentials and API keys are deactivated for good, as services._deactivate does
    (the same writes; the scanner is no member, so it cannot call it) and recorded
    `deactivated`. A token is ended alone. A password's account is blocked and its tokens end.
    """
    if found.token is not None:
        _end_tokens(pk=found.token.pk)
        return
    now = timezone.now()
    if isinstance(credential, ServiceAccount):
        credential.blocked_at = now
        credential.blocked_reason = f"Password reported leaked in public code ({details['source']})"[:200]
        credential.save(update_fields=["blocked_at", "blocked_reason"])
        _end_tokens(service_account=credential)
        return
    credential.deactivated_at = now
    credential.save(update_fields=["deactivated_at"])
    if isinstance(credential, OAuthClient):
        services._revoke_tokens(client=credential)
    _record_for_scanner(
        locked_team,
        HistoryAction.DEACTIVATED,
        credential,
        {"reason": "leak reported", "source": details["source"]},
    )


def _respond(found: Found, finding: Finding) -> LeakReport | None:
    """Act on one of our secrets by its team's policy and record it, in one transaction under
    the team lock; the new report, or None when an open report already says the same (a
    scanner's retry, a replay) and nothing more was revoked now."""
    team = found.credential.team
    with transaction.atomic():
        locked_team = lock_team(team)
        credential = _lock(found.credential, team)
        if not _is_live(found, credential):
            taken = LeakResponseTaken.ALREADY_INACTIVE
        elif locked_team.team.leak_response == Team.LeakResponse.ALERT:
            taken = LeakResponseTaken.ALERTED
        else:
            taken = LeakResponseTaken.REVOKED
        credential_type, _, _ = services.describe(credential)
        details = {
            "secret": found.secret.label,
            "source": finding.source,
            "url": finding.url,
            "response": taken.label,
        }
        already = LeakReport.objects.filter(
            team=team,
            credential_type=credential_type,
            credential_pk=credential.pk,
            secret=found.secret,
            url=finding.url,
            acknowledged_at__isnull=True,
        ).exists()
        report = None
        if not already or taken == LeakResponseTaken.REVOKED:
            report = LeakReport.objects.create(
                team=team,
                credential_type=credential_type,
                credential_pk=credential.pk,
                secret=found.secret,
                token_type=finding.type,
                url=finding.url,
                source=finding.source,
                action_taken=taken,
            )
            _record_for_scanner(locked_team, HistoryAction.LEAK_REPORTED, credential, details)
        if taken == LeakResponseTaken.REVOKED:
            _revoke(found, credential, locked_team, details)
        return report


def _signup_link(digest: str) -> bool:
    """A leaked sign-up link is revoked if still unused, whatever the policy: it would let
    anyone set the invited member's password. True if the link is one of ours."""
    invitation = SignupInvitation.objects.select_related("team").filter(token_digest=digest).first()
    if invitation is None:
        return False
    revoked = SignupInvitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    security_log.event("leaked_signup_link", team=invitation.team.slug, link_revoked=bool(revoked))
    return True


def _handle(finding: Finding) -> tuple[bool, LeakReport | None]:
    """(whether the value is one of ours, the report to email about if a new one was made)."""
    kind = _kind_of(finding.token)
    if kind is None:
        return False, None
    digest = credential_secrets.digest(finding.token)
    if kind == credential_secrets.Kind.SIGNUP:
        return _signup_link(digest), None
    finder = FINDERS.get(kind)
    found = finder(digest) if finder else None
    if found is None:
        return False, None
    return True, _respond(found, finding)


def leak_reports_process(*, findings: Sequence[Finding]) -> list[dict[str, str]]:
    """Act on each finding of a verified report and answer for each, in order, as the partner
    protocol expects: `{"token_raw", "token_type", "label"}`, `true_positive` for a value
    that is one of ours (working or not), `false_positive` for any other.

    Each finding is its own transaction under its team's lock, so a failure part-way leaves
    the ones before it done; the scanner retries the report, and an open report that already
    says the same is not made, recorded or emailed again. Emails go once everything is
    committed. `token_raw` echoes the scanner's own value: it is kept nowhere.
    """
    verdicts: list[dict[str, str]] = []
    new_reports: list[LeakReport] = []
    for finding in findings:
        ours, report = _handle(finding)
        verdicts.append(
            {
                "token_raw": finding.token,
                "token_type": finding.type,
                "label": TRUE_POSITIVE if ours else FALSE_POSITIVE,
            }
        )
        if report is not None:
            new_reports.append(report)
    for report in new_reports:
        _notify(report)
    return verdicts


# --- Telling the team ----------------------------------------------------------------------------

# How an email names what leaked, and of what.
_SECRET_NOUNS = {
    LeakedSecret.CLIENT_SECRET: "client secret",
    LeakedSecret.API_KEY: "API key",
    LeakedSecret.ACCESS_TOKEN: "access token",
    LeakedSecret.SERVICE_ACCOUNT_PASSWORD: "password",
}
_CREDENTIAL_NOUNS = {
    CredentialType.SERVICE_ACCOUNT: "service account",
    CredentialType.OAUTH_CLIENT: "OAuth client credentials",
    CredentialType.API_KEY: "API key",
}


def _notify(report: LeakReport) -> None:
    """Email the team's Manage users about a new report: which credential, where it was found
    and what was done. Never the secret. A mail failure is logged; the banner still shows."""
    recipients = manage_recipients(team=report.team)
    if not recipients:
        return
    credential = selectors.leak_report_credential(report)
    _, name, identifier = services.describe(credential)
    if isinstance(credential, ApiKey):
        identifier = credential.masked
    context = {
        "team": report.team,
        "report": report,
        "type_label": CredentialType(report.credential_type).label,
        "secret_noun": _SECRET_NOUNS[LeakedSecret(report.secret)],
        "credential_noun": _CREDENTIAL_NOUNS[CredentialType(report.credential_type)],
        "name": name,
        "identifier": identifier,
        "what_was_done": report.what_was_done,
        "url": credential_url(report.credential_type, report.credential_pk),
        "environment_label": settings.PORTAL_ENVIRONMENT.capitalize(),
    }
    subject = render_to_string("emails/leak_reported_subject.txt", context)
    body = render_to_string("emails/leak_reported.txt", context)
    messages = [
        mail.EmailMessage(
            subject=" ".join(subject.split()), body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[to]
        )
        for to in recipients
    ]
    try:
        mail.mailers.default.send_messages(messages)
    except OSError:
        logger.exception(
            "Could not email the leak report #%s of %s #%s (team %s)",
            report.pk,
            report.credential_type,
            report.credential_pk,
            report.team.slug,
        )


# --- Acknowledging a report ---------------------------------------------------------------------


class AlreadyAcknowledged(services.CredentialError):
    """Another request acknowledged the report first."""


def leak_report_acknowledge(
    *, actor: User, team: Team, report: LeakReport, ip_address: str | None = None
) -> LeakReport:
    """A Manage user has seen a leak report: its banner goes, and history records `leak
    acknowledged` on the credential (where it was found; never the secret).

    Under the team lock and the report's row lock, so of concurrent requests one records it
    and the others raise AlreadyAcknowledged (and record nothing).
    """
    require_manage(services._membership(actor, team))
    with transaction.atomic():
        locked_team = lock_team(team)
        locked = LeakReport.objects.select_for_update().get(pk=report.pk, team=team)
        if locked.acknowledged_at is not None:
            raise AlreadyAcknowledged("This leak report was already acknowledged.")
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = actor
        locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
        services._record(
            team=locked_team,
            actor=actor,
            action=HistoryAction.LEAK_ACKNOWLEDGED,
            credential=selectors.leak_report_credential(locked),
            ip_address=ip_address,
            details={
                "secret": locked.get_secret_display(),
                "source": locked.source,
                "url": locked.url,
                "reported_at": locked.reported_at.isoformat(),
            },
        )
        return locked
