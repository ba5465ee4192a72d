app_name = "idle"
urlpatterns: list = []
