"""Production: every secret from the environment, HTTPS only, PostgreSQL expected (DATABASE_URL)."""

import os

from django.core.exceptions import ImproperlyConfigured

for _name in ("SECRET_KEY", "ID_ENCRYPTION_KEY", "ID_HASH_KEY"):
    if not os.environ.get(f"ANJU_{_name}"):
        raise ImproperlyConfigured(f"生产环境必须设置环境变量 ANJU_{_name}")

from .base import *  # noqa: E402, F403

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = os.environ.get("ANJU_SSL_REDIRECT", "1") == "1"
SECURE_HSTS_SECONDS = int(os.environ.get("ANJU_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STATIC_ROOT = DATA_DIR / "static"  # noqa: F405  (`anju collectstatic` fills it)
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
}
