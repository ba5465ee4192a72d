"""Ledger pages (moves)."""

urlpatterns: list = []
