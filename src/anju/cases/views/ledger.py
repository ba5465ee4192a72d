"""Ledger pages (ledger)."""

urlpatterns: list = []
