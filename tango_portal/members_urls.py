from django.urls import URLPattern, path

from tango_portal import members_views

app_name = "members"
urlpatterns: list[URLPattern] = [
    path("", members_views.member_list, name="list"),
    path("add/", members_views.member_add, name="add"),
    path("<int:pk>/", members_views.member_edit, name="edit"),
    path("<int:pk>/remove/", members_views.member_remove, name="remove"),
    path("<int:pk>/signup-link/", members_views.member_signup_link, name="signup-link"),
]
