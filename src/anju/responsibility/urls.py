from django.urls import path

from . import views

app_name = "responsibility"
urlpatterns = [
    path("responsibility/", views.chain_home, name="chain_home"),
    path("responsibility/divisions/<str:pk>/", views.chain, name="chain"),
    path("responsibility/divisions/<str:pk>/assign/", views.division_assign, name="division_assign"),
    path("responsibility/households/<int:pk>/assign/", views.household_assign, name="household_assign"),
    path("responsibility/assignments/<int:pk>/end/", views.assignment_end_view, name="assignment_end"),
    path("responsibility/people/<int:pk>/", views.person_detail, name="person_detail"),
]
