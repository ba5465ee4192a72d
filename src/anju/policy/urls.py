from django.urls import path

from . import views

app_name = "policy"
urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/mine/", views.alert_mine, name="alert_mine"),
    path("alerts/responsible/", views.responsible_summary, name="responsible_summary"),
    path("monitoring/", views.monitoring_list, name="monitoring_list"),
    path("monitoring/export/", views.monitoring_export, name="monitoring_export"),
]
