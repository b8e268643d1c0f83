from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from credentials.oauth import views as oauth_views
from tango_portal import members_views, sudo, views
from tango_portal.forms import EmailAuthenticationForm

urlpatterns = [
    # The machine endpoints first: they take most of the requests, and URL resolution
    # tries the patterns in order. The API's one endpoint is a pattern of its own, not
    # an include, which would cost every call a second resolver (bench/token.py).
    path("api/v2/whoami", oauth_views.whoami, name="api-whoami"),
    path("oauth/", include("credentials.oauth.urls")),
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", members_views.signup, name="signup-submit"),
    path("accounts/signup/<str:token>/", members_views.signup, name="signup"),
    path("accounts/sudo/", sudo.confirm_password, name="sudo"),
    path("team/switch/", views.team_switch, name="team-switch"),
    path("team/api-credentials/", include("credentials.urls")),
    path("team/users/", include("tango_portal.members_urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler500 = "tango_portal.views.server_error"
