"""Division names as people type them → 12-digit village codes (issue 5 deliver 2).

Spreadsheets from towns and departments name places as 县（市、区）/乡镇（街道）/行政村, written with or without the
level suffix (榆阳区 or 榆阳, 鱼河镇 or 鱼河, 某某村委会 for 某某村), in full-width or with stray spaces. The resolver
loads the division tree once and answers a repeated (county, town, village) triple from a dict, because an import
asks for the same few thousand places a million times.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

from django.utils.translation import gettext as _

from anju.core.scope import code_prefix
from anju.divisions.models import Division, Level

# The body that runs a place, written instead of or after its name, and the level it implies:
# 某某村民委员会 and 某某村村委会 → 某某村, 某某社区居委会 → 某某社区, 某某街道办事处 → 某某街道,
# 某某镇人民政府 → 某某镇.
BODY_SUFFIXES = (
    ("村民委员会", "村"),
    ("居民委员会", "社区"),
    ("人民政府", ""),
    ("村委会", "村"),
    ("居委会", "社区"),
    ("办事处", "街道"),
)
# The level suffix dropped to compare bare names (某某村 → 某某).
LEVEL_SUFFIXES = ("街道", "社区", "苏木", "嘎查", "县", "区", "市", "旗", "镇", "乡", "村")
MAX_CANDIDATES = 5
CACHE_LIMIT = 200_000  # distinct typed triples kept; an import of garbage must not grow memory without bound

_IGNORED = re.compile(r"[\s·•・]+")
_CODE = re.compile(r"\d{12}")
_PROVINCE = re.compile(r"^(?:[^省]{2,3}省|[^区]{2,7}自治区)")


def name_key(text: object) -> str:
    """The typed name as compared: half-width, without spaces, case-folded."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", str(text or ""))).casefold()


def formal_name(key: str) -> str:
    """A body written for its place means the place: 王家沟村委会 → 王家沟村, 鼓楼街道办事处 → 鼓楼街道."""
    for suffix, level in BODY_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
            return key if key.endswith(LEVEL_SUFFIXES) else key + level
    return key


def core_name(key: str) -> str:
    """A name without its level suffix: 鼓楼街道办事处 → 鼓楼, 高杰村镇 → 高杰村, 佳县 → 佳."""
    key = formal_name(key)
    for suffix in LEVEL_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            return key[: -len(suffix)]
    return key


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: how many characters to insert, delete or replace to turn a into b."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


class _Failure(str):
    """A cached refusal: its text is the message raised again for the same typed triple."""


class PlaceResolver:
    """The division tree in memory, for matching the place columns of every row of an import.

    A snapshot taken when it is built: make one per import run, so divisions imported since are seen.
    """

    SEARCHED = (Level.COUNTY, Level.TOWN, Level.VILLAGE)

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.levels: dict[str, str] = {}
        self.parents: dict[str, str | None] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        self._exact: dict[str, dict[str, list[str]]] = {level: defaultdict(list) for level in self.SEARCHED}
        self._core: dict[str, dict[str, list[str]]] = {level: defaultdict(list) for level in self.SEARCHED}
        self._prefixes: list[str] = []
        for code, name, level, parent in Division.objects.values_list("code", "name", "level", "parent_id"):
            self.names[code] = name
            self.levels[code] = level
            self.parents[code] = parent
            if parent:
                self.children[parent].append(code)
            if level in self._exact:
                key = name_key(name)
                self._exact[level][key].append(code)
                self._core[level][core_name(key)].append(code)
            else:
                self._prefixes.append(name_key(name))
        self._prefixes.sort(key=len, reverse=True)
        self._cache: dict[tuple[object, object, object], str] = {}
        self._codes: dict[object, str] = {}

    def resolve(self, county: object, town: object, village: object) -> str:
        """The 12-digit village code for the three place cells; county or town may be blank when the rest is unique."""
        triple = (county, town, village)
        hit = self._cache.get(triple)
        if hit is None:
            try:
                hit = self._resolve(county, town, village)
            except ValueError as error:
                hit = _Failure(error)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[triple] = hit
        if type(hit) is _Failure:
            raise ValueError(str(hit))
        return hit

    def resolve_code(self, code: object) -> str:
        """A 区划代码 as typed (text or an Excel number) that must name an existing village."""
        hit = self._codes.get(code)
        if hit is None:
            try:
                hit = self._resolve_code(code)
            except ValueError as error:
                hit = _Failure(error)
            if len(self._codes) >= CACHE_LIMIT:
                self._codes.clear()
            self._codes[code] = hit
        if type(hit) is _Failure:
            raise ValueError(str(hit))
        return hit

    def _resolve_code(self, code: object) -> str:
        if isinstance(code, float) and code.is_integer():
            code = int(code)
        text = name_key(code)
        if not text:
            raise ValueError(_("区划代码不能为空"))
        if not _CODE.fullmatch(text) or not text.isascii():
            raise ValueError(_("区划代码应为12位数字"))
        level = self.levels.get(text)
        if level is None:
            raise ValueError(_("区划代码{code}不存在").format(code=text))
        if level != Level.VILLAGE:
            raise ValueError(
                _("区划代码{code}是{level}「{name}」，应填行政村（社区）的代码").format(
                    code=text, level=Level(level).label, name=self.names[text]
                )
            )
        return text

    def _resolve(self, county: object, town: object, village: object) -> str:
        within: str | None = None
        for level, typed in ((Level.COUNTY, county), (Level.TOWN, town)):
            key = name_key(typed)
            if level == Level.COUNTY:
                key = self._without_ancestors(key)
            if key:
                within = self._find(level, key, typed, within)
        key = name_key(village)
        if not key:
            raise ValueError(_("行政村（社区）不能为空"))
        return self._find(Level.VILLAGE, key, village, within)

    def _without_ancestors(self, key: str) -> str:
        """'陕西省榆林市榆阳区' → '榆阳区': people sometimes write the province or city before the county."""
        key = _PROVINCE.sub("", key, count=1) or key
        for prefix in self._prefixes:
            if key.startswith(prefix) and len(key) > len(prefix):
                return key[len(prefix) :]
        return key

    def _inside(self, codes: list[str], within: str | None) -> list[str]:
        if within is None:
            return codes
        prefix = code_prefix(within, self.levels[within])
        return [code for code in codes if code.startswith(prefix)]

    def _find(self, level: str, key: str, typed: object, within: str | None) -> str:
        """The one division of `level` under `within` named so: in full, then by its bare name (suffix dropped)."""
        lookups = (
            self._exact[level].get(formal_name(key)),
            self._core[level].get(key),
            self._core[level].get(core_name(key)),
        )
        for codes in lookups:
            found = self._inside(codes or [], within)
            if len(found) == 1:
                return found[0]
            if found:
                raise ValueError(
                    _("「{name}」有多个匹配：{candidates}，请写全名或使用区划代码").format(
                        name=str(typed).strip(), candidates=self._listing(found)
                    )
                )
        raise ValueError(self._unknown(level, key, typed, within, [code for codes in lookups for code in codes or []]))

    def _unknown(self, level: str, key: str, typed: object, within: str | None, elsewhere: list[str]) -> str:
        """Where else the name exists (a wrong county or town), else the nearest names by edit distance."""
        name = str(typed).strip()
        place = self.names[within] if within else _("区划库")
        if elsewhere:
            parents = list(dict.fromkeys(self._path(self.parents[code]) for code in elsewhere))
            others = "、".join(parents[:MAX_CANDIDATES])
            if len(parents) > MAX_CANDIDATES:
                others = _("{others}等{count}处").format(others=others, count=len(parents))
            return _("「{name}」不在{place}下，而在{others}下，请核对上级区划").format(
                name=name, place=place, others=others
            )
        core = core_name(key)
        scored = sorted(
            (edit_distance(core, core_name(name_key(self.names[code]))), self.names[code], code)
            for code in self._descendants(within, level)
        )
        limit = max(1, len(core) // 2)
        near = [code for distance, _name, code in scored[:MAX_CANDIDATES] if distance <= limit]
        if near:
            return _("「{name}」不在{place}下，相近的有：{candidates}").format(
                name=name, place=place, candidates=self._listing(near)
            )
        return _("「{name}」不在{place}下，请核对名称或使用区划代码").format(name=name, place=place)

    def _descendants(self, within: str | None, level: str) -> list[str]:
        if within is None:
            return [code for codes in self._exact[level].values() for code in codes]
        found, frontier = [], [within]
        while frontier:
            code = frontier.pop()
            for child in self.children.get(code, ()):
                if self.levels[child] == level:
                    found.append(child)
                else:
                    frontier.append(child)
        return found

    def _path(self, code: str | None) -> str:
        """榆阳区鱼河镇: a division named with its parents down from the county."""
        parts = []
        while code and self.levels.get(code) in self.SEARCHED:
            parts.append(self.names[code])
            code = self.parents[code]
        return "".join(reversed(parts))

    def _listing(self, codes: list[str]) -> str:
        """Candidates by name; with their parents when the names alone would not tell them apart."""
        names = [self.names[code] for code in codes]
        if len(set(names)) < len(names) or len({self.parents[code] for code in codes}) > 1:
            names = [self._path(code) for code in codes]
        return "、".join(names)
