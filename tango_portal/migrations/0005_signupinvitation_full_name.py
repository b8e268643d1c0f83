"""Each team's typed name moves onto its sign-up links; unused accounts keep no name of their own.

One team's admin must not see the name another team's admin typed for the same address
(security issue 1), so the name of an account nobody has used yet (no usable password,
never signed in) is copied onto that account's sign-up links and cleared on the account.
"""

from typing import Any

from django.db import migrations, models

UNUSABLE_PASSWORD_PREFIX = "!"  # noqa: S105 (Django's marker, not a password)


def move_typed_names(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("tango_portal", "User")
    SignupInvitation = apps.get_model("tango_portal", "SignupInvitation")
    unused = User.objects.filter(password__startswith=UNUSABLE_PASSWORD_PREFIX, last_login__isnull=True)
    for user in unused.exclude(full_name="").iterator():
        SignupInvitation.objects.filter(user=user, full_name="").update(full_name=user.full_name)
        user.full_name = ""
        user.save(update_fields=["full_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("tango_portal", "0004_chain_checkpoints"),
    ]

    operations = [
        migrations.AddField(
            model_name="signupinvitation",
            name="full_name",
            field=models.CharField(blank=True, max_length=150, verbose_name="name typed by the admin"),
        ),
        migrations.RunPython(move_typed_names, migrations.RunPython.noop),
    ]
