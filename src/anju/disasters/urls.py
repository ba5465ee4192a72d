app_name = "disasters"
urlpatterns: list = []
