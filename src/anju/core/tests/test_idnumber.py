"""GB 11643-1999 resident ID numbers: checksum, date, address code, normalisation, masking, crypto."""

import datetime as dt
import hashlib
import hmac
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from anju.core import idnumber


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",  # the standard's published example
        "440524188001010014",  # published example, born 1880
        "610802198501011234"[:17] + idnumber.check_char("61080219850101123"),
        "612701" + "19500101001" + idnumber.check_char("61270119500101001"),  # old Yulin code
        "610821" + "19600315002" + idnumber.check_char("61082119600315002"),  # 神木县 (before 2017)
    ],
)
def test_valid_numbers(value):
    assert idnumber.validate(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "checksum"),
        ("11010519491231002", "length"),
        ("1101051949123100211", "length"),
        ("11010519490231002X", "birth_date"),  # 31 Feb... 0231
        ("11010519491331002X", "birth_date"),  # month 13
        ("990105194912310028", "address"),
        ("1101051949123100A1", "chars"),
        ("", "required"),
    ],
)
def test_invalid_numbers(value, code):
    with pytest.raises(ValidationError) as info:
        idnumber.validate(value)
    assert info.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.messages[0])


def test_future_birth_date_refused():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    value = idnumber.compose("610802", tomorrow, 1)
    with pytest.raises(ValidationError) as info:
        idnumber.validate(value)
    assert info.value.code == "birth_date"


@pytest.mark.parametrize(
    "raw",
    [
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits and X
        "11010519491231002x",  # lowercase x
        " 110105 19491231 002X ",  # spaces
        "110105-19491231-002X",
        "\t11010519491231002x\n",
    ],
)
def test_normalisation(raw):
    assert idnumber.validate(raw) == "11010519491231002X"


def test_mask_keeps_address_and_last_four():
    assert idnumber.mask("11010519491231002X") == "110105********002X"


def test_encryption_round_trip_and_randomised():
    a = idnumber.encrypt("11010519491231002X")
    b = idnumber.encrypt("11010519491231002X")
    assert a != b  # random nonce: equal numbers do not give equal ciphertexts
    assert "11010519491231002X" not in a
    assert idnumber.decrypt(a) == idnumber.decrypt(b) == "11010519491231002X"


def test_keyed_hash_matches_any_spelling_and_depends_on_key(settings):
    h = idnumber.keyed_hash("11010519491231002X")
    assert h == idnumber.keyed_hash("11010519491231002x") == idnumber.keyed_hash("１１０１０５１９４９１２３１００２Ｘ")
    settings.ANJU_ID_HASH_KEY = "22" * 32
    assert idnumber.keyed_hash("11010519491231002X") != h


@given(
    st.sampled_from(["610802", "610881", "610826", "612732", "110105"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
def test_composed_numbers_validate_and_one_digit_change_is_caught(address, born, seq):
    value = idnumber.compose(address, born, seq)
    assert idnumber.validate(value) == value
    wrong = value[:14] + str((int(value[14]) + 1) % 10) + value[15:]
    with pytest.raises(ValidationError):
        idnumber.validate(wrong)


@pytest.mark.parametrize("key_bytes", [16, 32, 64, 100])  # shorter than, equal to and longer than SHA-256's block
def test_keyed_hash_is_the_standard_hmac(settings, key_bytes):
    """keyed_digests spells HMAC out for speed: it must equal the standard library's HMAC-SHA256 for any key."""
    settings.ANJU_ID_HASH_KEY = bytes(range(7, 7 + key_bytes)).hex()
    numbers = ["11010519491231002X", "610802196001011234"]
    key = bytes.fromhex(settings.ANJU_ID_HASH_KEY)
    expected = [hmac.new(key, n.encode(), hashlib.sha256).digest() for n in numbers]
    assert idnumber.keyed_digests(numbers) == expected
    assert idnumber.keyed_hash("11010519491231002x") == expected[0].hex()


@given(st.text(alphabet="0123456789xX０１２９Ｘｘ -'\"\u3000", min_size=0, max_size=20))
def test_normalize_fast_path_changes_nothing(text):
    """normalize's shortcut for plain ASCII numbers gives what the full NFKC path gives, for every spelling."""
    slow = "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace() and ch not in "-'\"").upper()
    assert idnumber.normalize(text) == slow


def _gb11643(value: str) -> bool:
    """The standard's rules written plainly: the reference for validate's shortcut."""
    value = value.upper()
    try:
        born = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], idnumber.WEIGHTS, strict=True))
    return (
        value[:6] in idnumber.known_address_codes()
        and dt.date(1880, 1, 1) <= born <= dt.date.today()
        and "10X98765432"[total % 11] == value[17]
    )


@given(
    st.sampled_from(["610802", "110105", "612701", "990105"]),
    st.one_of(
        st.dates(min_value=dt.date(1870, 1, 1), max_value=dt.date.today() + dt.timedelta(days=3)).map(
            lambda d: f"{d:%Y%m%d}"
        ),
        st.sampled_from(["18791231", "18800101", "20230229", "20240229", "19491331", "19490230", "00000000"]),
        st.just(f"{dt.date.today():%Y%m%d}"),
    ),
    st.integers(min_value=0, max_value=999),
    st.sampled_from("0123456789Xx"),
)
def test_validate_shortcut_follows_the_standard(address, born, seq, check):
    """validate's shortcut for plain numbers (set lookups, one weighted sum) accepts exactly what GB 11643 does;
    what it does not accept goes the long way and is refused with its reason."""
    value = f"{address}{born}{seq:03d}{check}"
    if _gb11643(value):
        assert idnumber.validate(value) == value.upper()
    else:
        with pytest.raises(ValidationError):
            idnumber.validate(value)
