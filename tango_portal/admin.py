from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from credentials.admin import ReadOnlyAdmin, ReadOnlyMixin
from tango_portal.models import Membership, SignupInvitation, Team, TeamActivity, User


class MembershipInline(ReadOnlyMixin, admin.TabularInline):
    """Memberships are shown, not edited: the portal's Users page changes them, so every
    change lands in the team activity record."""

    model = Membership
    extra = 0
    fields = ("user", "role", "api_keys_permission", "created_at")
    readonly_fields = fields


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "oauth_enabled", "created_at"]
    list_filter = ["oauth_enabled"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Users are deactivated here (`is_active`), never deleted: deleting one would silently
    remove a team's last admin, which the portal's Users page refuses."""

    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name",)}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Also drops the "Delete selected users" action from the list.
        return False


# --- Team membership records: read-only; the members services own every write ----------


@admin.register(TeamActivity)
class TeamActivityAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "action",
        "subject_name",
        "subject_email",
        "from_value",
        "to_value",
        "actor_name",
        "actor_email",
        "team",
    ]
    list_filter = ["action"]
    search_fields = ["subject_email", "subject_name", "actor_email", "team__name"]
    list_select_related = ["team"]
    ordering = ["-occurred_at", "-id"]


@admin.register(SignupInvitation)
class SignupInvitationAdmin(ReadOnlyAdmin):
    list_display = ["user", "team", "created_at", "expires_at", "used_at", "revoked_at"]
    list_select_related = ["user", "team"]
    search_fields = ["user__email", "team__name"]
    exclude = ["token_digest"]
