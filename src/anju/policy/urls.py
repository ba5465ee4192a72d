from django.urls import URLPattern

app_name = "policy"
urlpatterns: list[URLPattern] = []
