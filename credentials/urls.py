from django.urls import include, path

from credentials.views import api_keys, clients, history, overview, service_accounts

app_name = "credentials"

urlpatterns = [
    path("", overview.api_credentials, name="index"),
    path("service-accounts/", include(service_accounts)),
    path("clients/", include(clients)),
    path("api-keys/", include(api_keys)),
    path("history/", include(history)),
]
