"""Ledger pages: `ledger` (list, case page, registries), `moves` (one form per service), `exports` (downloads)."""
