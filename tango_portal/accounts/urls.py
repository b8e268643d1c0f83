"""Signing in and out, sudo mode and the team switch (URL names are global: `login`, ...)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from tango_portal.accounts import sudo, views
from tango_portal.accounts.forms import EmailAuthenticationForm

urlpatterns = [
    path(
        "accounts/login/",
        sudo.sudo_exempt("signing in is what sudo mode asks for")(
            auth_views.LoginView.as_view(
                authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
            )
        ),
        name="login",
    ),
    path(
        "accounts/logout/",
        sudo.sudo_exempt("signing out gives up access")(auth_views.LogoutView.as_view()),
        name="logout",
    ),
    path("accounts/sudo/", sudo.confirm_password, name="sudo"),
    path("team/switch/", views.team_switch, name="team-switch"),
]
