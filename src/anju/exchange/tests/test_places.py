"""Division names as people type them, against the real Yulin tree (issue 5 deliver 2)."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anju.exchange.places import PlaceResolver, core_name, edit_distance, formal_name, name_key
from anju.testing.factories import village

pytestmark = pytest.mark.django_db

YUHE = "610802100000"  # 榆阳区鱼河镇
ZHENCHUAN = "610802102000"  # 榆阳区镇川镇
GAOJIECUN = "610830104000"  # 清涧县高杰村镇
GAOJIAPU = "610881101000"  # 神木市高家堡镇


@pytest.fixture
def places():
    """Real counties and towns (root conftest); villages named as in the field, one name in two towns."""
    village(YUHE, 1, "王家沟村")
    village(YUHE, 2, "鱼河村")
    village(YUHE, 3, "李家梁村")
    village(YUHE, 4, "李家梁社区")
    village(ZHENCHUAN, 1, "王家沟村")
    village(ZHENCHUAN, 2, "常家沟村")
    village(GAOJIECUN, 1, "高杰村")
    village(GAOJIAPU, 1, "高家堡社区")
    return PlaceResolver()


WANGJIAGOU_YUHE = "610802100201"


@pytest.mark.parametrize(
    ("county", "town", "village_name"),
    [
        ("榆阳区", "鱼河镇", "王家沟村"),
        ("榆阳", "鱼河", "王家沟"),
        ("榆阳区", "鱼河乡", "王家沟村委会"),  # the wrong level suffix still finds the town
        ("榆阳区", "鱼河镇人民政府", "王家沟村民委员会"),
        ("榆阳区", "鱼河镇", "王家沟村村委会"),
        ("榆 阳 区", " 鱼河镇\u3000", "王家沟村 "),
        ("榆林市榆阳区", "鱼河镇", "王家沟村"),
        ("陕西省榆林市榆阳区", "鱼河镇", "王家沟村"),
        ("", "鱼河镇", "王家沟村"),  # the town is unique in the tree
        (None, "鱼河", "王家沟村"),
    ],
)
def test_typed_variants_resolve(places, county, town, village_name):
    assert places.resolve(county, town, village_name) == WANGJIAGOU_YUHE


def test_suffix_inside_a_name(places):
    """高杰村镇 is a town whose name holds 村: '高杰村' typed as the town still means it, and its village 高杰村."""
    assert places.resolve("清涧县", "高杰村", "高杰村") == "610830104201"
    assert places.resolve("清涧", "高杰村镇", "高杰村村委会") == "610830104201"


@pytest.mark.parametrize("town", ["鼓楼街道", "鼓楼", "鼓楼街道办事处", "鼓楼办事处", "鼓 楼 街 道"])
def test_subdistrict_spellings(places, town):
    village("610802001000", 1, "新建路社区")
    assert PlaceResolver().resolve("榆阳区", town, "新建路社区居民委员会") == "610802001201"


def test_old_county_name_and_community(places):
    assert places.resolve("神木县", "高家堡", "高家堡社区居委会") == "610881101201"
    assert places.resolve("", "", "常家沟") == "610802102202"  # unique in the whole tree


def test_same_village_name_in_two_towns(places):
    assert places.resolve("榆阳区", "镇川镇", "王家沟村") == "610802102201"
    with pytest.raises(ValueError) as refused:
        places.resolve("榆阳区", "", "王家沟村")
    assert (
        str(refused.value)
        == "「王家沟村」有多个匹配：榆阳区鱼河镇王家沟村、榆阳区镇川镇王家沟村，请写全名或使用区划代码"
    )


def test_ambiguous_short_name_in_one_town(places):
    with pytest.raises(ValueError) as refused:
        places.resolve("榆阳区", "鱼河镇", "李家梁")
    assert str(refused.value) == "「李家梁」有多个匹配：李家梁村、李家梁社区，请写全名或使用区划代码"
    assert places.resolve("榆阳区", "鱼河镇", "李家梁社区") == "610802100204"
    assert places.resolve("榆阳区", "鱼河镇", "李家梁社区居委会") == "610802100204"
    assert places.resolve("榆阳区", "鱼河镇", "李家梁居委会") == "610802100204"
    assert places.resolve("榆阳区", "鱼河镇", "李家梁村委会") == "610802100203"


def test_unknown_names_list_the_nearest(places):
    with pytest.raises(ValueError) as refused:
        places.resolve("榆阳区", "鱼河镇", "王家钩村")
    assert str(refused.value) == "「王家钩村」不在鱼河镇下，相近的有：王家沟村"
    with pytest.raises(ValueError) as refused:
        places.resolve("榆阳区", "鱼和镇", "王家沟村")
    assert str(refused.value) == "「鱼和镇」不在榆阳区下，相近的有：鱼河镇"
    with pytest.raises(ValueError) as refused:
        places.resolve("榆杨区", "鱼河镇", "王家沟村")
    assert str(refused.value) == "「榆杨区」不在区划库下，相近的有：榆阳区"
    with pytest.raises(ValueError, match="「火星村」不在鱼河镇下，请核对名称或使用区划代码"):
        places.resolve("榆阳区", "鱼河镇", "火星村")


def test_wrong_parent_names_where_the_place_is(places):
    with pytest.raises(ValueError) as refused:
        places.resolve("神木市", "鱼河镇", "王家沟村")
    assert str(refused.value) == "「鱼河镇」不在神木市下，而在榆阳区下，请核对上级区划"
    with pytest.raises(ValueError) as refused:
        places.resolve("榆阳区", "镇川镇", "鱼河村")
    assert str(refused.value) == "「鱼河村」不在镇川镇下，而在榆阳区鱼河镇下，请核对上级区划"


def test_blank_village(places):
    with pytest.raises(ValueError, match="行政村（社区）不能为空"):
        places.resolve("榆阳区", "鱼河镇", " ")


def test_resolve_code(places):
    assert places.resolve_code(WANGJIAGOU_YUHE) == WANGJIAGOU_YUHE
    assert places.resolve_code(610802100201.0) == WANGJIAGOU_YUHE
    assert places.resolve_code(" ６１０８０２１００２０１ ") == WANGJIAGOU_YUHE
    for code, reason in [
        (YUHE, "区划代码610802100000是乡镇（街道）「鱼河镇」，应填行政村（社区）的代码"),
        ("610802100299", "区划代码610802100299不存在"),
        ("6108021002", "区划代码应为12位数字"),
        ("", "区划代码不能为空"),
    ]:
        with pytest.raises(ValueError) as refused:
            places.resolve_code(code)
        assert str(refused.value) == reason


def test_loaded_once_and_cached(places, django_assert_num_queries):
    """One query builds the tree; after that no resolve touches the database, and a repeat is a dict lookup."""
    with django_assert_num_queries(1):
        resolver = PlaceResolver()
    with django_assert_num_queries(0):
        for _round in range(3):
            assert resolver.resolve("榆阳区", "鱼河镇", "王家沟村") == WANGJIAGOU_YUHE
            with pytest.raises(ValueError, match="相近的有：王家沟村"):
                resolver.resolve("榆阳区", "鱼河镇", "王家钩村")
            assert resolver.resolve_code(WANGJIAGOU_YUHE) == WANGJIAGOU_YUHE
    assert ("榆阳区", "鱼河镇", "王家沟村") in resolver._cache  # a repeat is one dict lookup (speed: bench/, not here)


def test_name_helpers():
    assert core_name(name_key("鼓楼街道办事处")) == "鼓楼"
    assert core_name(name_key("佳县")) == "佳"
    assert core_name(name_key("高杰村镇")) == "高杰村"
    assert core_name(name_key("村")) == "村"
    assert core_name(name_key("王家沟村委会")) == "王家沟"
    assert formal_name(name_key("鼓楼办事处")) == "鼓楼街道"
    assert formal_name(name_key("鱼河镇人民政府")) == "鱼河镇"
    assert edit_distance("王家沟", "王家钩") == 1
    assert edit_distance("鱼河", "鱼河峁") == 1
    assert edit_distance("", "abc") == 3


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.tuples(*[st.one_of(st.none(), st.text(), st.sampled_from(["榆阳区", "鱼河", "王家沟", "村", "区"]))] * 3))
def test_random_names_raise_only_value_errors(places, triple):
    try:
        code = places.resolve(*triple)
    except ValueError as error:
        assert str(error)
    else:
        assert places.levels[code] == "village"
