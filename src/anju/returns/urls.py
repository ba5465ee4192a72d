from .views import urlpatterns

app_name = "returns"
__all__ = ["app_name", "urlpatterns"]
