"""Inspection endpoints, one router per collection; `anju.api` mounts them."""
