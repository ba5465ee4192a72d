"""Cell normalisers for every import: one raw spreadsheet cell in, one clean value out.

Each parser takes the raw cell as a reader hands it over (str, int, float, date/datetime or None) and returns the
value, or raises ``ValueError`` whose text is the short Chinese reason shown to the user (DESIGN.md "Spreadsheets").
Blank cells are the caller's business (required or not), so the parsers refuse them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from anju.core import idnumber

Cell = str | int | float | dt.date | dt.datetime | None

EXCEL_EPOCH = dt.date(1899, 12, 30)
EXCEL_MAX_SERIAL = 2958465  # 9999-12-31
EXCEL_FAKE_LEAP_DAY = 60  # Excel's 1900-02-29, a day that never was (Lotus 1-2-3 compatibility)
MIN_YEAR = 1900

_SPACES = re.compile(r"\s+")
_TIME_SUFFIX = r"(?:T?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DATE_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME_SUFFIX),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")
_QUANTA = [Decimal(1).scaleb(-places) for places in range(10)]
_SERIAL_TEXT = re.compile(r"\d{1,7}(?:\.\d+)?")
_INT_TEXT = re.compile(r"[+-]?\d+(?:\.0*)?")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E\+?\d+", re.IGNORECASE)
_MULTI_SEPARATORS = re.compile(r"[、,;/\s]+")
_YES = frozenset({"是", "y", "yes", "1", "true", "有", "√"})
_NO = frozenset({"否", "n", "no", "0", "false", "无", "×"})


def _text(value: Cell) -> str:
    """The cell as half-width text, trimmed; Excel's 3.0 for a typed 3 becomes '3'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _blank() -> ValueError:
    return ValueError(_("不能为空"))


def clean_text(value: Cell) -> str:
    """Full-width to half-width, trimmed, runs of inner spaces collapsed to one ('' for a blank cell)."""
    return _SPACES.sub(" ", _text(value))


def parse_id_number(value: Cell) -> str:
    """The 18-character resident ID number, checked by GB 11643 (checksum, birth date, address code)."""
    accepted = idnumber.accept(value)  # nearly every cell: 18 plain characters and valid
    if accepted is not None:
        return accepted
    try:
        return idnumber.validate(_id_text(value))
    except ValidationError as error:
        raise ValueError(error.messages[0]) from None


def _id_text(value: Cell) -> str:
    """An ID cell as typed (full-width, spaces, lowercase x, an Excel number) as 18 characters to validate."""
    if isinstance(value, bool):
        raise ValueError(_("身份证号码只能由数字和末位X组成"))
    if isinstance(value, float) and (value >= 1e15 or not value.is_integer()):
        raise ValueError(_("身份证号码被存成了数字，末几位已丢失，请把该列设为文本后重新录入"))
    text = idnumber.normalize(_text(value))
    if not text:
        raise _blank()
    if _SCIENTIFIC.fullmatch(text):
        raise ValueError(_("身份证号码被存成了数字，末几位已丢失，请把该列设为文本后重新录入"))
    if not text.isascii():
        raise ValueError(_("身份证号码只能由数字和末位X组成"))
    return text


def excel_serial_to_date(serial: int) -> dt.date:
    """A 1900-system Excel serial as a date; serial 60 is Excel's fictitious 1900-02-29 and is refused."""
    if not 1 <= serial <= EXCEL_MAX_SERIAL:
        raise ValueError(_("日期序号{serial}超出Excel日期范围（1–{max}）").format(serial=serial, max=EXCEL_MAX_SERIAL))
    if serial == EXCEL_FAKE_LEAP_DAY:
        raise ValueError(_("日期序号60是Excel中不存在的1900年2月29日，请核对"))
    if serial < EXCEL_FAKE_LEAP_DAY:
        return EXCEL_EPOCH + dt.timedelta(days=serial + 1)
    return EXCEL_EPOCH + dt.timedelta(days=serial)


def _serial(value: float) -> dt.date:
    if not math.isfinite(value):
        raise ValueError(_("日期格式无法识别，应为2021-05-14、2021/5/14、2021年5月14日、20210514等"))
    return excel_serial_to_date(math.floor(value))


def _spelled_date(text: str) -> dt.date:
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            parts = [group for group in match.groups() if group and group.isdigit()]
            year, month, day = (int(part) for part in parts)
            try:
                return dt.date(year, month, day)
            except ValueError:
                raise ValueError(_("{text}不是有效日期").format(text=text)) from None
    if _SERIAL_TEXT.fullmatch(text):
        return _serial(float(text))
    raise ValueError(_("日期格式无法识别，应为2021-05-14、2021/5/14、2021年5月14日、20210514等"))


def parse_date(value: Cell, *, not_after: dt.date | None = None) -> dt.date:
    """A date in any spelling of DESIGN.md or an Excel serial; ``not_after`` refuses later dates (e.g. today)."""
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, bool):
        raise ValueError(_("日期格式无法识别，应为2021-05-14、2021/5/14、2021年5月14日、20210514等"))
    elif isinstance(value, int | float):
        day = _serial(value)
    else:
        text = _SPACES.sub("", _text(value))
        if not text:
            raise _blank()
        day = _spelled_date(text)
    if day.year < MIN_YEAR:
        raise ValueError(_("日期{date}早于{year}年，请核对").format(date=day.isoformat(), year=MIN_YEAR))
    if not_after is not None and day > not_after:
        raise ValueError(_("日期{date}晚于{limit}，不能是将来的日期").format(date=day.isoformat(), limit=not_after))
    return day


def _check_range(number: int | Decimal, lo: int | Decimal | None, hi: int | Decimal | None, label: str) -> None:
    if (lo is not None and number < lo) or (hi is not None and number > hi):
        if lo is not None and hi is not None:
            message = _("{label}应在{lo}–{hi}之间")
        elif lo is not None:
            message = _("{label}不能小于{lo}")
        else:
            message = _("{label}不能大于{hi}")
        raise ValueError(message.format(label=label, lo=lo, hi=hi))


def parse_int(value: Cell, lo: int | None, hi: int | None, label: str) -> int:
    """A whole number within [lo, hi] (either bound may be None); '3.0' and Excel's 3.0 count as 3."""
    if isinstance(value, bool | dt.date):
        raise ValueError(_("{label}应为整数").format(label=label))
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(_("{label}应为整数").format(label=label))
    text = _SPACES.sub("", _text(value))
    if not text:
        raise _blank()
    if not text.isascii() or not _INT_TEXT.fullmatch(text):
        raise ValueError(_("{label}应为整数").format(label=label))
    if len(text) > 30:
        raise ValueError(_("{label}数值过大").format(label=label))
    number = int(text.split(".")[0])
    _check_range(number, lo, hi, label)
    return number


def parse_decimal(value: Cell, lo: Decimal | int | None, hi: Decimal | int | None, places: int, label: str) -> Decimal:
    """A number within [lo, hi], rounded half-up to ``places`` decimals (Excel floats carry binary noise)."""
    if value.__class__ is str and places < len(_QUANTA) and _PLAIN_DECIMAL.fullmatch(value):  # most cells: plain
        number = Decimal(value).quantize(_QUANTA[places], rounding=ROUND_HALF_UP)
        _check_range(number, lo, hi, label)
        return number
    if isinstance(value, bool | dt.date):
        raise ValueError(_("{label}应为数字").format(label=label))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(_("{label}应为数字").format(label=label))
        text = repr(value)
    else:
        text = _SPACES.sub("", _text(value))
        if not text:
            raise _blank()
        if not text.isascii() or not _DECIMAL_TEXT.fullmatch(text):
            raise ValueError(_("{label}应为数字").format(label=label))
    try:
        number = Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(_("{label}应为数字").format(label=label)) from None
    _check_range(number, lo, hi, label)
    return number


def parse_yes_no(value: Cell) -> bool:
    """是/否, Y/N, yes/no, 1/0, true/false (any case, full-width or not)."""
    if isinstance(value, bool):
        return value
    text = _SPACES.sub("", _text(value)).casefold()
    if not text:
        raise _blank()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise ValueError(_("应填“是”或“否”"))


def _key(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


_choice_indexes: dict[tuple[int, int], tuple[Mapping[str, str], Mapping[str, str] | None, dict[str, str]]] = {}


def _choice_index(choices: Mapping[str, str], aliases: Mapping[str, str] | None) -> dict[str, str]:
    """label/alias/code → code, built once per (choices, aliases) pair: parse_choice runs once per row."""
    cache_key = (id(choices), id(aliases))
    entry = _choice_indexes.get(cache_key)
    if entry is not None and entry[0] is choices and entry[1] is aliases:
        return entry[2]
    index = {_key(code): code for code in choices}
    index.update({_key(alias): code for alias, code in (aliases or {}).items()})
    index.update({_key(label): code for code, label in choices.items()})
    if len(_choice_indexes) > 64:
        _choice_indexes.clear()
    _choice_indexes[cache_key] = (choices, aliases, index)
    return index


def parse_choice(value: Cell, choices: Mapping[str, str], aliases: Mapping[str, str] | None = None) -> str:
    """The code of a reference value written as its label, one of its aliases or its code (code → label map)."""
    text = _key(_text(value))
    if not text:
        raise _blank()
    code = _choice_index(choices, aliases).get(text)
    if code is None:
        labels = "、".join(str(label) for label in choices.values())
        raise ValueError(_("应为以下之一：{labels}").format(labels=labels))
    return code


def split_multi(value: Cell) -> list[str]:
    """Several values in one cell, separated by 、，,;；/ or spaces; blanks and repeats dropped, order kept."""
    parts = _MULTI_SEPARATORS.split(_text(value))
    return list(dict.fromkeys(part for part in parts if part))
