"""Imports every rule module so that they register. Add a new module's import here."""
