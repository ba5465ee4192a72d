app_name = "responsibility"
urlpatterns: list = []
