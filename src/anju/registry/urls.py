from django.urls import path

from . import views

app_name = "registry"
urlpatterns = [
    path("households/", views.household_list, name="household_list"),
    path("households/add/", views.household_add, name="household_add"),
    path("households/<int:pk>/", views.household_detail, name="household_detail"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/id-number/", views.household_id_number, name="household_id_number"),
    path("households/<int:pk>/houses/add/", views.house_add, name="house_add"),
    path("houses/<int:pk>/edit/", views.house_edit, name="house_edit"),
]
