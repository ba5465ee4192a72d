from .views import urlpatterns

app_name = "idle"
__all__ = ["app_name", "urlpatterns"]
