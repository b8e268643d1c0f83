from django.urls import path

from credentials.oauth import views

app_name = "api"
urlpatterns = [
    path("whoami", views.whoami, name="whoami"),
]
