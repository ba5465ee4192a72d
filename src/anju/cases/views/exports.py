"""Ledger pages (exports)."""

urlpatterns: list = []
