"""Sign-up reports every password problem in one round."""

from __future__ import annotations

import pytest

from tango_portal.members.forms import SignupForm
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_mismatch_and_a_weak_password_are_reported_together():
    user = UserFactory(email="new.hire@example.com", full_name="New Hire")
    form = SignupForm({"full_name": "New Hire", "new_password1": "123", "new_password2": "456"}, user=user)

    assert not form.is_valid()
    assert form.errors["new_password2"] == ["The two passwords do not match."]
    assert any("too short" in error for error in form.errors["new_password1"])
