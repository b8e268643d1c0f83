from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET

from credentials.oauth import views as oauth_views
from credentials.views import scanning as scanning_views
from tango_portal import views
from tango_portal.members import views as members_views


@require_GET
def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico whatever the page links to: send them the static icon.

    Not permanent: the static file's name carries its hash in production.
    """
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("api/v2/whoami", oauth_views.whoami, name="api-whoami"),
    path("oauth/", include("credentials.oauth.urls")),
    path("api/secret-scanning/reports", scanning_views.reports, name="secret-scanning-reports"),
    path("", views.home, name="home"),
    path("", include("tango_portal.accounts.urls")),
    path("accounts/signup/", members_views.signup, name="signup-submit"),
    path("accounts/signup/<str:token>/", members_views.signup, name="signup"),
    path("team/api-credentials/", include("credentials.urls")),
    path("team/users/", include("tango_portal.members.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
]

handler500 = "tango_portal.views.server_error"
