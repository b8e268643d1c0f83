"""The portal's URLs behind one trivial JSON view, the ceiling whoami is measured against."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from tango_portal import urls as portal_urls


def trivial(request: HttpRequest) -> JsonResponse:
    """A JSON answer through the same middleware: no authentication, no query."""
    return JsonResponse({"ok": True})


# First, so that URL resolution costs the ceiling no more than it costs the API.
urlpatterns = [path("bench/trivial", trivial), *portal_urls.urlpatterns]
handler500 = portal_urls.handler500
