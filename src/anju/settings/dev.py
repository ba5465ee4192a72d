"""Development and demo (`make run`): SQLite in the data dir unless DATABASE_URL is set."""

from .base import *  # noqa: F403
