"""The protected API first, then DOT's endpoints where its documentation mounts them (/o/token/)."""

from django.urls import include, path

from bench.peer.views import WhoAmIView

urlpatterns = [
    path("api/whoami", WhoAmIView.as_view()),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
