from .views import urlpatterns as views

app_name = "cards"
urlpatterns = [*views]
