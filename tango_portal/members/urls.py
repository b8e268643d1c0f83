from django.urls import URLPattern, path

from tango_portal.members import views

app_name = "members"
urlpatterns: list[URLPattern] = [
    path("", views.member_list, name="list"),
    path("add/", views.member_add, name="add"),
    path("<int:pk>/", views.member_edit, name="edit"),
    path("<int:pk>/remove/", views.member_remove, name="remove"),
    path("<int:pk>/signup-link/", views.member_signup_link, name="signup-link"),
]
