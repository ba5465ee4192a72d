"""Inspection pages, one module per sub-domain; `anju.inspections.urls` joins their `urlpatterns`."""
