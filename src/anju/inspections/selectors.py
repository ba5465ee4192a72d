"""Reads on inspections; each starts from `.visible_to(actor)`."""
