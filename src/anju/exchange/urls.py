from . import views_exports

app_name = "exchange"
urlpatterns = [*views_exports.urlpatterns]
