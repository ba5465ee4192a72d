"""Tests: fast hashing and fixed keys; the database comes from DATABASE_URL (SQLite by default)."""

import os

os.environ.setdefault("ANJU_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ANJU_ID_ENCRYPTION_KEY", "00" * 32)
os.environ.setdefault("ANJU_ID_HASH_KEY", "11" * 32)

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXES_FAILURE_LIMIT = 5
