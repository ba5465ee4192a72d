from . import views_compare, views_export_jobs, views_exports, views_imports

app_name = "exchange"
urlpatterns = [
    *views_exports.urlpatterns,
    *views_compare.urlpatterns,
    *views_imports.urlpatterns,
    *views_export_jobs.urlpatterns,
]
