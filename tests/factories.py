from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from credentials import secrets as credential_secrets
from credentials.models import AccessToken
from tango_portal.models import Membership, Team, User

PASSWORD = "correct horse battery staple"
# Hashed once with the fast test hasher; tests that need argon2 say so.
_HASHED: dict[str, str] = {}


def hashed_password() -> str:
    if PASSWORD not in _HASHED:
        _HASHED[PASSWORD] = make_password(PASSWORD, hasher="md5")
    return _HASHED[PASSWORD]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")
    oauth_enabled = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User Number{n}")
    password = factory.LazyFunction(hashed_password)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    role = Membership.Role.MEMBER
    api_keys_permission = Membership.ApiKeysPermission.MANAGE


class AccessTokenFactory(factory.django.DjangoModelFactory):
    """A live 24-hour token; pass its `client`. Only the digest of a fresh value is stored."""

    class Meta:
        model = AccessToken

    token_digest = factory.LazyFunction(
        lambda: credential_secrets.digest(credential_secrets.generate(credential_secrets.Kind.ACCESS_TOKEN))
    )
    audience = "https://api.tangocard.com/"
    scope = "raas.all"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))
