"""Django's system checks (models, URLs, templates, security) must pass: `anju` data commands skip them at start
(anju.core.commands.AnjuCommand), so the suite is where a broken URL or model definition is caught."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.core.management.base import SystemCheckError


def test_system_checks_pass():
    out = io.StringIO()
    try:
        call_command("check", stdout=out, stderr=out)
    except SystemCheckError as error:  # the message lists every failed check
        raise AssertionError(str(error)) from error
    assert "no issues" in out.getvalue()

