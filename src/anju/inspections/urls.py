from .views import appraisals, campaigns, checks

app_name = "inspections"
urlpatterns = [*campaigns.urlpatterns, *checks.urlpatterns, *appraisals.urlpatterns]
