from .views import exports, funds, ledger, moves, registries

app_name = "cases"
urlpatterns = [
    *ledger.urlpatterns,
    *moves.urlpatterns,
    *exports.urlpatterns,
    *registries.urlpatterns,
    *funds.urlpatterns,
]
