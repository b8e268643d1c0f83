"""The reference project's protected API: who the bearer token belongs to."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from oauth2_provider.views import ProtectedResourceView


class WhoAmIView(ProtectedResourceView):
    """GET /api/whoami: the token's user and client, as DOT checks a bearer token."""

    def verify_request(self, request: HttpRequest) -> tuple[bool, Any]:
        valid, oauthlib_request = super().verify_request(request)
        if valid:
            # DOT hands the view only the user; the client comes with the same token row.
            self.application = oauthlib_request.client
        return valid, oauthlib_request

    def get(self, request: HttpRequest) -> JsonResponse:
        return JsonResponse(
            {"user": request.resource_owner.get_username(), "client": self.application.client_id}
        )
