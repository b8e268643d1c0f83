from django.urls import include, path

from credentials.views import (
    api_keys,
    clients,
    history,
    overview,
    policy,
    rotation,
    scanning,
    service_accounts,
    unused,
)

app_name = "credentials"

urlpatterns = [
    path("", overview.api_credentials, name="index"),
    # Rotation and Revoke tokens (credentials.views.rotation), before the types' own pages.
    path("clients/<int:pk>/rotate/", rotation.rotation_start, {"kind": "clients"}, name="client_rotate"),
    path("api-keys/<int:pk>/rotate/", rotation.rotation_start, {"kind": "api_keys"}, name="api_key_rotate"),
    path("rotations/<int:pk>/", rotation.rotation_detail, name="rotation"),
    path("rotations/<int:pk>/finish/", rotation.rotation_finish, name="rotation_finish"),
    path(
        "service-accounts/<int:pk>/revoke-tokens/",
        rotation.revoke_tokens,
        name="service_account_revoke_tokens",
    ),
    # After a leaked-secret report (credentials.views.scanning).
    path("leak-reports/<int:pk>/acknowledge/", scanning.acknowledge, name="leak_report_acknowledge"),
    path("service-accounts/<int:pk>/lift-block/", scanning.lift_block, name="service_account_lift_block"),
    path("service-accounts/", include(service_accounts)),
    path("clients/", include(clients)),
    path("api-keys/", include(api_keys)),
    path("history/", include(history)),
    path("unused/", unused.unused_list, name="unused"),
    path("policy/", policy.policy_edit, name="policy"),
]
