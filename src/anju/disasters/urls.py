from .views import urlpatterns

app_name = "disasters"
__all__ = ["app_name", "urlpatterns"]
