from django.contrib.auth import views as auth_views
from django.urls import include, path

from anju.accounts.forms import LoginForm

from .api import api

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("", include("anju.registry.urls")),
    path("", include("anju.inspections.urls")),
    path("", include("anju.cases.urls")),
    path("", include("anju.policy.urls")),
    path("", include("anju.exchange.urls")),
    path("", include("anju.training.urls")),
    path("", include("anju.responsibility.urls")),
    path("", include("anju.disasters.urls")),
    path("", include("anju.complaints.urls")),
    path("", include("anju.supervision.urls")),
    path("", include("anju.idle.urls")),
    path("", include("anju.returns.urls")),
    path("", include("anju.cards.urls")),
    path("", include("anju.web.urls")),
]
