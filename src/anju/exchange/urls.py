from . import views_compare, views_exports

app_name = "exchange"
urlpatterns = [*views_exports.urlpatterns, *views_compare.urlpatterns]
