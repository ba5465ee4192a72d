"""Login, lockout after repeated failures (django-axes), password hashing, tokens, deploy checks."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from anju.accounts.models import ApiToken
from anju.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return factories.user("yy_admin", factories.YUYANG, "county_manager")


def login(client, password):
    return client.post(reverse("login"), {"username": "yy_admin", "password": password})


def test_login_lands_on_home(client, manager):
    response = login(client, factories.PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_lockout_after_repeated_failures(client, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "wrong-password")
        assert response.status_code == 200
        assert "用户名或密码错误" in response.content.decode()
    response = login(client, "wrong-password")
    assert response.status_code == 429
    # Even the right password is refused while locked.
    response = login(client, factories.PASSWORD)
    assert response.status_code == 429
    assert "锁定" in response.content.decode()


def test_token_endpoint_is_locked_out_too(client, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token", {"username": "yy_admin", "password": "nope"}, content_type="application/json")
    response = client.post(
        "/api/v1/auth/token", {"username": "yy_admin", "password": factories.PASSWORD}, content_type="application/json"
    )
    assert response.status_code in (403, 429)
    assert not ApiToken.objects.exists()


def test_production_hasher_is_argon2():
    assert "Argon2" in settings.PASSWORD_HASHERS[0] or os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith("test")
    from anju.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_token_command_prints_a_working_token(client, manager, capsys):
    call_command("token", "yy_admin")
    token = capsys.readouterr().out.strip()
    assert token.startswith("anju_")
    response = client.get("/api/v1/households", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    # Only a digest is stored.
    assert not ApiToken.objects.filter(key_hash=token).exists()


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"} | {
        "DJANGO_SETTINGS_MODULE": "anju.settings.production",
        "ANJU_SECRET_KEY": "x" * 60 + "prod-key-for-check-only-1234567890",
        "ANJU_ID_ENCRYPTION_KEY": "ab" * 32,
        "ANJU_ID_HASH_KEY": "cd" * 32,
        "ANJU_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "anju", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_missing_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANJU_")}
    env |= {"DJANGO_SETTINGS_MODULE": "anju.settings.production", "ANJU_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "anju", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "ANJU_SECRET_KEY" in result.stderr
