from .views import exports, ledger, moves

app_name = "cases"
urlpatterns = [*ledger.urlpatterns, *moves.urlpatterns, *exports.urlpatterns]
