from django.urls import URLPattern

app_name = "oauth"
urlpatterns: list[URLPattern] = []
