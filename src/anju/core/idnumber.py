"""Resident ID numbers (GB 11643-1999): normalise, validate, mask, encrypt, keyed hash.

ID numbers are sensitive personal information (PIPL): stored only as AES-GCM ciphertext plus an
HMAC-SHA256 keyed hash (for uniqueness and matching) and a masked form for display.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache
from operator import mul
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SHA256_BLOCK = 64
#: an ID as typed most of the time: ASCII digits and a check character, nothing for normalize to change but x
_PLAIN = re.compile(r"[0-9]{17}[0-9Xx]")
CHECK_CHARS = "10X98765432"
_CIPHER_VERSION = "v1"


@cache
def known_address_codes() -> frozenset[str]:
    """County-level codes of GB/T 2260, current and abolished (old Yulin codes 6127xx included)."""
    path = Path(__file__).parent / "data" / "gb2260_codes.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def normalize(raw: str) -> str:
    """Full-width digits and X to half-width, spaces and dashes dropped, lowercase x upper-cased."""
    if raw.__class__ is str and _PLAIN.fullmatch(raw):  # nearly every number: nothing to drop or widen
        return raw.upper()
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-'\"").upper()


def _weighted(digits: str, weights: Sequence[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11


#: the check character's weighted sum of the sequence number (positions 15–17) by its three digits
_SEQUENCE_SUMS = {f"{n:03d}": _weighted(f"{n:03d}", WEIGHTS[14:]) for n in range(1000)}
_sums_until: float = 0.0
_sums: tuple[dict[str, int], dict[str, int]] = ({}, {})


def _partial_sums() -> tuple[dict[str, int], dict[str, int]]:
    """The weighted sums (mod 11) of every known address code and of every birth date `validate` accepts
    (1880-01-01 … today, YYYYMMDD, 53,000 of them): `accept` checks a number with three lookups. Rebuilt after
    local midnight (asking for today's date per number would cost as much as the lookups)."""
    global _sums_until, _sums
    now = time.time()
    if not _sums_until - 86_400 <= now < _sums_until:
        today = dt.date.today()
        first = dt.date(1880, 1, 1)
        dates = (f"{first + dt.timedelta(days=n):%Y%m%d}" for n in range((today - first).days + 1))
        _sums = (
            {code: _weighted(code, WEIGHTS[:6]) for code in known_address_codes()},
            {born: _weighted(born, WEIGHTS[6:14]) for born in dates},
        )
        _sums_until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time()).timestamp()
    return _sums


def check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError(f"17 digits expected, got {len(first17)}")
    return CHECK_CHARS[sum(map(mul, map(int, first17), WEIGHTS)) % 11]


def accept(raw: object) -> str | None:
    """The normalised number when `raw` is a plain valid one (18 ASCII characters), else None: the common case of
    an import's million numbers in a few steps (three lookups, see `_partial_sums`); `validate` tells the rest why."""
    if not isinstance(raw, str) or not _PLAIN.fullmatch(raw):
        return None
    value = raw.upper()
    addresses, births = _partial_sums()
    address, born = addresses.get(value[:6]), births.get(value[6:14])
    if address is None or born is None:
        return None
    return value if CHECK_CHARS[(address + born + _SEQUENCE_SUMS[value[14:17]]) % 11] == value[17] else None


def validate(raw: str) -> str:
    """Return the normalised 18-character number or raise ValidationError in Chinese."""
    accepted = accept(raw)
    if accepted is not None:
        return accepted
    value = normalize(raw)
    if not value:
        raise ValidationError(_("身份证号码不能为空"), code="required")
    if len(value) != 18:
        raise ValidationError(_("身份证号码应为18位，实际为{length}位").format(length=len(value)), code="length")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise ValidationError(_("身份证号码只能由数字和末位X组成"), code="chars")
    if value[:6] not in known_address_codes():
        raise ValidationError(_("身份证号码的地址码{code}不存在").format(code=value[:6]), code="address")
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            _("身份证号码中的出生日期{date}不是有效日期").format(date=value[6:14]), code="birth_date"
        ) from None
    if born.year < 1880 or born > dt.date.today():
        raise ValidationError(_("身份证号码中的出生日期{date}不合理").format(date=value[6:14]), code="birth_date")
    if check_char(value[:17]) != value[17]:
        raise ValidationError(_("身份证号码校验位错误，请核对是否录入有误"), code="checksum")
    return value


def mask(value: str) -> str:
    """610802********123X: address code and last four kept, birth date and sequence hidden."""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of the normalised number (hex): unique per person, useless without the key."""
    return keyed_digests([normalize(value)])[0].hex()


def keyed_digests(numbers: Sequence[str]) -> list[bytes]:
    """The 32 raw bytes of keyed_hash of many numbers that are already normalised (imports and comparisons of a
    million rows): HMAC-SHA256 spelt out (RFC 2104: H(K⊕opad ‖ H(K⊕ipad ‖ m))) from the two keyed SHA-256 states,
    set up once and copied per number, half the time of `hmac.HMAC.copy`."""
    inner, outer = _keyed_states(settings.ANJU_ID_HASH_KEY)
    digests = []
    for value in numbers:
        first = inner()
        first.update(value.encode())
        second = outer()
        second.update(first.digest())
        digests.append(second.digest())
    return digests


@cache
def _keyed_states(key_hex: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    key = bytes.fromhex(key_hex)
    if len(key) > _SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    return hashlib.sha256(bytes(k ^ 0x36 for k in key)).copy, hashlib.sha256(bytes(k ^ 0x5C for k in key)).copy


@cache
def _cipher(key_hex: str) -> AESGCM:
    return AESGCM(bytes.fromhex(key_hex))


def encrypt(value: str) -> str:
    return encrypt_many([value])[0]


def encrypt_many(values: Sequence[str]) -> list[str]:
    """encrypt of each value (AES-GCM, a fresh 12-byte nonce each): one key lookup and one draw of random bytes
    for all of them, which is what a comparison's 100,000 people not in the registry need."""
    cipher = _cipher(settings.ANJU_ID_ENCRYPTION_KEY)
    nonces = os.urandom(12 * len(values))
    prefix = f"{_CIPHER_VERSION}:"
    sealed = []
    for i, value in enumerate(values):
        nonce = nonces[12 * i : 12 * i + 12]
        sealed.append(prefix + base64.b64encode(nonce + cipher.encrypt(nonce, value.encode(), None)).decode())
    return sealed


def decrypt(token: str) -> str:
    version, _, payload = token.partition(":")
    if version != _CIPHER_VERSION:
        raise ValueError(f"unknown ID cipher version {version!r}")
    blob = base64.b64decode(payload)
    return _cipher(settings.ANJU_ID_ENCRYPTION_KEY).decrypt(blob[:12], blob[12:], None).decode()


def birth_date(value: str) -> dt.date:
    return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def is_male(value: str) -> bool:
    return int(value[16]) % 2 == 1


def compose(address_code: str, born: dt.date, sequence: int) -> str:
    """A well-formed number from its parts (used for synthetic demo and test data)."""
    first17 = f"{address_code}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_char(first17)
