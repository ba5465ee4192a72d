"""Word lists for synthetic Yulin data: surnames, given names, village names and their pinyin.

Weights are rough local frequencies (northern Shaanxi has many 高, 马, 白, 贺, 霍, 呼, 折, 拓, 惠 …), so the
demo looks like a Yulin roster rather than a national one. Pinyin is kept next to each character so the demo
village user's login name can be derived from its village name.
"""

from __future__ import annotations

# (surname, pinyin, weight)
SURNAMES: list[tuple[str, str, float]] = [
    ("王", "wang", 8),
    ("李", "li", 7),
    ("刘", "liu", 7),
    ("张", "zhang", 6),
    ("高", "gao", 6),
    ("马", "ma", 5),
    ("郭", "guo", 4),
    ("杨", "yang", 4),
    ("白", "bai", 4),
    ("贺", "he", 3),
    ("冯", "feng", 3),
    ("赵", "zhao", 3),
    ("霍", "huo", 2),
    ("薛", "xue", 2),
    ("常", "chang", 2),
    ("乔", "qiao", 2),
    ("曹", "cao", 2),
    ("贾", "jia", 2),
    ("周", "zhou", 2),
    ("陈", "chen", 2),
    ("韩", "han", 2),
    ("呼", "hu", 1.5),
    ("拓", "tuo", 1.5),
    ("惠", "hui", 1.5),
    ("苗", "miao", 1.5),
    ("崔", "cui", 1.5),
    ("任", "ren", 1.5),
    ("孙", "sun", 1.5),
    ("吴", "wu", 1.5),
    ("田", "tian", 1.5),
    ("闫", "yan", 1.5),
    ("侯", "hou", 1.5),
    ("郝", "hao", 1.5),
    ("武", "wu", 1.5),
    ("折", "she", 1),
    ("艾", "ai", 1),
    ("雷", "lei", 1),
    ("姬", "ji", 1),
    ("党", "dang", 1),
    ("延", "yan", 1),
    ("牛", "niu", 1),
    ("辛", "xin", 1),
    ("尚", "shang", 1),
    ("康", "kang", 1),
    ("宋", "song", 1),
    ("朱", "zhu", 1),
    ("徐", "xu", 1),
    ("姚", "yao", 1),
    ("温", "wen", 1),
    ("袁", "yuan", 1),
    ("黄", "huang", 1),
    ("石", "shi", 1),
    ("柴", "chai", 1),
    ("訾", "zi", 0.5),
    ("兰", "lan", 0.5),
    ("井", "jing", 0.5),
    ("申", "shen", 0.5),
]

MALE_CHARS = (
    "军伟强明平华林峰斌刚勇亮海宏杰涛鹏飞文武成忠生福贵富兵虎龙东宝云山荣喜旺堂全有德万利才发玉怀俊世保占"
    "建国治中光新春秋志胜祥瑞金银锁栓根厚存树仁义"
)
FEMALE_CHARS = "梅兰英芳霞萍娟丽秀珍花琴燕红艳玲凤桂莲翠改彩娥叶琳慧敏静香巧爱月粉娃玉春"

# Village name parts: 王家沟村, 高家畔村, 刘家峁村 … and a few place-word names (柳树湾村, 枣林坪村).
VILLAGE_SUFFIXES: list[tuple[str, str, float]] = [
    ("沟", "gou", 10),
    ("畔", "pan", 5),
    ("峁", "mao", 5),
    ("坪", "ping", 5),
    ("湾", "wan", 6),
    ("岔", "cha", 4),
    ("洼", "wa", 3),
    ("塔", "ta", 3),
    ("河", "he", 3),
    ("园", "yuan", 2),
    ("墕", "yan", 2),
    ("渠", "qu", 2),
    ("庄", "zhuang", 2),
    ("坬", "gua", 1.5),
    ("硷", "jian", 1.5),
    ("梁", "liang", 2),
    ("寨", "zhai", 2),
    ("圪崂", "gelao", 1),
]
PLACE_WORDS: list[tuple[str, str]] = [
    ("柳树", "liushu"),
    ("枣林", "zaolin"),
    ("杏树", "xingshu"),
    ("桃树", "taoshu"),
    ("红柳", "hongliu"),
    ("石", "shi"),
    ("沙", "sha"),
    ("黄", "huang"),
    ("前", "qian"),
    ("后", "hou"),
    ("上", "shang"),
    ("下", "xia"),
    ("东", "dong"),
    ("西", "xi"),
    ("马", "ma"),
    ("柏树", "baishu"),
]

GROUP_NAMES = ["一组", "二组", "三组", "四组", "五组", "六组", "七组", "八组"]

MOBILE_PREFIXES = [
    *("130", "131", "132", "133", "134", "135", "136", "137", "138", "139"),
    *("150", "151", "152", "153", "155", "156", "157", "158", "159"),
    *("166", "173", "177", "180", "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "199"),
]
LANDLINE_PREFIX = "0912-"  # 榆林 area code

PINYIN: dict[str, str] = (
    {s: p for s, p, _ in SURNAMES}
    | {"家": "jia", "村": "cun", "圪": "ge", "崂": "lao"}
    | {s: p for s, p, _ in VILLAGE_SUFFIXES if len(s) == 1}
    | {w: p for w, p in PLACE_WORDS if len(w) == 1}
    | {"柳": "liu", "树": "shu", "枣": "zao", "林": "lin", "杏": "xing", "桃": "tao", "红": "hong", "柏": "bai"}
)


def pinyin(name: str) -> str | None:
    """Toneless pinyin of a generated village name, or None when a character is not in the table."""
    parts = [PINYIN.get(ch) for ch in name]
    return None if None in parts else "".join(parts)  # type: ignore[arg-type]
