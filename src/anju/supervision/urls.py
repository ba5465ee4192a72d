from django.urls import include, path

from .views import assessment, plans, visits

app_name = "supervision"
urlpatterns = [
    path("supervision/", include([*plans.urlpatterns, *visits.urlpatterns, *assessment.urlpatterns])),
]
