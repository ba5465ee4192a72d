"""The `anju` console script: Django's manage.py with the project's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anju.settings.dev")
    # polars allocates through its own jemalloc, which keeps freed pages for 10 s by default: a million-row
    # comparison then holds ~100 MB it no longer uses at its peak. Read when polars loads, so set it first.
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:300,muzzy_decay_ms:0")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
