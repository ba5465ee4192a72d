"""Cell normalisers of every import (issue 5 deliver 1, DESIGN.md "Spreadsheets")."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anju.core import idnumber
from anju.exchange import values

FIRST_SERIAL_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9999, 12, 31)
STRUCTURES = {"brick_concrete": "砖混", "earth_cave": "土窑洞", "other": "其他"}
STRUCTURE_ALIASES = {"砖混结构": "brick_concrete", "土窑": "earth_cave"}


def spellings(day: dt.date) -> list[str]:
    """Every way DESIGN.md says people write a date."""
    y, m, d = day.year, day.month, day.day
    return [
        f"{y}-{m:02d}-{d:02d}",
        f"{y}-{m}-{d}",
        f"{y}/{m}/{d}",
        f"{y}/{m:02d}/{d:02d}",
        f"{y}.{m}.{d}",
        f"{y}年{m}月{d}日",
        f"{y}年{m:02d}月{d:02d}日",
        f"{y}{m:02d}{d:02d}",
        f" {y}-{m:02d}-{d:02d} 00:00:00 ",
        f"{y}年{m}月{d}日".translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    ]


def excel_serial(day: dt.date) -> int:
    """Excel's own numbering: days since 1899-12-31, counting the 1900-02-29 that never was."""
    serial = (day - dt.date(1899, 12, 31)).days
    return serial + 1 if day >= dt.date(1900, 3, 1) else serial


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=LAST_DAY))
def test_parse_date_round_trips_every_spelling(day):
    for text in spellings(day):
        assert values.parse_date(text) == day, text
    assert values.parse_date(dt.datetime.combine(day, dt.time(13, 5))) == day
    assert values.parse_date(day) == day


@given(st.dates(min_value=FIRST_SERIAL_DAY, max_value=LAST_DAY), st.floats(min_value=0, max_value=0.999))
def test_parse_date_round_trips_excel_serials(day, time_of_day):
    serial = excel_serial(day)
    assert values.parse_date(serial) == day
    assert values.parse_date(float(serial)) == day
    assert values.parse_date(serial + time_of_day) == day
    assert values.parse_date(str(serial)) == day


@pytest.mark.parametrize(
    ("serial", "day"),
    [(1, dt.date(1900, 1, 1)), (59, dt.date(1900, 2, 28)), (61, dt.date(1900, 3, 1)), (44330, dt.date(2021, 5, 14))],
)
def test_excel_serial_landmarks(serial, day):
    assert values.parse_date(serial) == day


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (60, "不存在的1900年2月29日"),
        (0, "超出Excel日期范围"),
        (2958466, "超出Excel日期范围"),
        ("2021-02-30", "不是有效日期"),
        ("20211301", "不是有效日期"),
        ("2021-05/14", "日期格式无法识别"),
        ("14/05/2021", "日期格式无法识别"),
        ("去年五月", "日期格式无法识别"),
        ("1899-12-31", "早于1900年"),
        (True, "日期格式无法识别"),
        (float("nan"), "日期格式无法识别"),
        ("", "不能为空"),
        (None, "不能为空"),
    ],
)
def test_parse_date_refuses(value, reason):
    with pytest.raises(ValueError, match=reason):
        values.parse_date(value)


def test_parse_date_refuses_future_dates_when_asked():
    today = dt.date(2024, 6, 1)
    assert values.parse_date("2024-06-01", not_after=today) == today
    with pytest.raises(ValueError, match="不能是将来的日期"):
        values.parse_date("2024-06-02", not_after=today)
    assert values.parse_date("2024-06-02") == dt.date(2024, 6, 2)


ids = st.builds(
    idnumber.compose,
    st.sampled_from(["610802", "610803", "610821", "612701", "110105"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@given(ids)
def test_parse_id_number_accepts_typed_variants(number):
    assert values.parse_id_number(number) == number
    assert values.parse_id_number(number.translate(FULL_WIDTH)) == number
    assert values.parse_id_number(f" {number[:6]} {number[6:14]} {number[14:]}  ") == number
    assert values.parse_id_number(number.lower()) == number
    assert values.parse_id_number(f"'{number}") == number  # Excel's text prefix


@given(ids, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=10))
def test_parse_id_number_rejects_every_single_character_change(number, position, shift):
    alphabet = "0123456789X" if position == 17 else "0123456789"
    changed = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    if changed == number[position]:
        return
    with pytest.raises(ValueError):
        values.parse_id_number(number[:position] + changed + number[position + 1 :])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("110105194912310021", "校验位错误"),
        ("11010519491231002", "应为18位"),
        (6.10802198501011e17, "存成了数字"),
        ("6.10802E+17", "存成了数字"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "只能由数字和末位X组成"),  # Arabic-Indic digits
        ("", "不能为空"),
        (None, "不能为空"),
    ],
)
def test_parse_id_number_refuses(value, reason):
    with pytest.raises(ValueError, match=reason):
        values.parse_id_number(value)


def test_clean_text():
    assert values.clean_text("  张\u3000 三 ") == "张 三"
    assert values.clean_text("ＡＢＣ１２３") == "ABC123"
    assert values.clean_text(13800000000.0) == "13800000000"
    assert values.clean_text(None) == ""


@pytest.mark.parametrize(("value", "number"), [("3", 3), (3, 3), (3.0, 3), ("３", 3), (" 30 ", 30), ("2.0", 2)])
def test_parse_int(value, number):
    assert values.parse_int(value, 1, 30, "家庭人口") == number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("31", "家庭人口应在1–30之间"),
        (0, "家庭人口应在1–30之间"),
        ("2.5", "家庭人口应为整数"),
        (2.5, "家庭人口应为整数"),
        ("三口", "家庭人口应为整数"),
        ("9" * 5000, "家庭人口数值过大"),
        ("", "不能为空"),
    ],
)
def test_parse_int_refuses(value, reason):
    with pytest.raises(ValueError, match=reason):
        values.parse_int(value, 1, 30, "家庭人口")


def test_parse_int_open_bounds():
    assert values.parse_int("-5", None, 0, "x") == -5
    with pytest.raises(ValueError, match="层数不能小于1"):
        values.parse_int("0", 1, None, "层数")


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("85.5", Decimal("85.50")),
        (85.12000000000001, Decimal("85.12")),
        ("１２０", Decimal("120.00")),
        (0.125, Decimal("0.13")),
        (".5", Decimal("0.50")),
        (7, Decimal("7.00")),
    ],
)
def test_parse_decimal_rounds_half_up(value, number):
    assert values.parse_decimal(value, Decimal("0.01"), Decimal("10000"), 2, "建筑面积") == number


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0", "建筑面积应在0.01–10000之间"),
        ("85平方米", "建筑面积应为数字"),
        (float("inf"), "建筑面积应为数字"),
        ("1e400", "建筑面积应为数字"),
        ("", "不能为空"),
    ],
)
def test_parse_decimal_refuses(value, reason):
    with pytest.raises(ValueError, match=reason):
        values.parse_decimal(value, Decimal("0.01"), Decimal("10000"), 2, "建筑面积")


@pytest.mark.parametrize("value", ["是", "Y", "y", "yes", "1", 1, 1.0, "TRUE", "true", True, " 是 "])
def test_parse_yes(value):
    assert values.parse_yes_no(value) is True


@pytest.mark.parametrize("value", ["否", "N", "no", "0", 0, "False", False])
def test_parse_no(value):
    assert values.parse_yes_no(value) is False


def test_parse_yes_no_refuses():
    with pytest.raises(ValueError, match="应填“是”或“否”"):
        values.parse_yes_no("可能")


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("砖混", "brick_concrete"),
        (" 砖 混 ", "brick_concrete"),
        ("砖混结构", "brick_concrete"),
        ("土窑", "earth_cave"),
        ("土窑洞", "earth_cave"),
        ("OTHER", "other"),
    ],
)
def test_parse_choice(value, code):
    assert values.parse_choice(value, STRUCTURES, STRUCTURE_ALIASES) == code


def test_parse_choice_lists_the_labels():
    with pytest.raises(ValueError, match="应为以下之一：砖混、土窑洞、其他"):
        values.parse_choice("钢结构", STRUCTURES, STRUCTURE_ALIASES)
    with pytest.raises(ValueError, match="应为以下之一"):
        values.parse_choice("土窑", STRUCTURES)  # the alias belongs to the other call only


def test_split_multi():
    assert values.split_multi("特困人员、低保户，其他脱贫户;低保户／分散供养  五保") == [
        "特困人员",
        "低保户",
        "其他脱贫户",
        "分散供养",
        "五保",
    ]
    assert values.split_multi(" ") == []
    assert values.split_multi(None) == []


cells = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789０１２３４５６７８９-/.年月日xX 、,;E+e"),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)


@given(cells)
def test_nothing_but_value_error_on_random_cells(cell):
    parsers = [
        values.parse_id_number,
        values.parse_date,
        lambda v: values.parse_date(v, not_after=dt.date(2024, 1, 1)),
        lambda v: values.parse_int(v, 1, 30, "家庭人口"),
        lambda v: values.parse_decimal(v, -180, 180, 6, "经度"),
        values.parse_yes_no,
        lambda v: values.parse_choice(v, STRUCTURES, STRUCTURE_ALIASES),
    ]
    for parse in parsers:
        try:
            parse(cell)
        except ValueError as error:
            assert str(error)
    assert isinstance(values.clean_text(cell), str)
    assert all(part for part in values.split_multi(cell))
