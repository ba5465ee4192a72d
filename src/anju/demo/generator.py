"""Deterministic synthetic Yulin households: pure Python, no database, one `random.Random(seed)`.

The same seed over the same villages yields the same households, ID numbers and houses, so a demo, a test or a
benchmark can be reproduced exactly. The shapes follow what county staff see in Yulin: cave dwellings and
earth-wood houses dominate the loess hills of the north-east counties, brick-concrete the sandy north-west; most
houses are A/B, a few percent C/D (more among caves and earth), some never appraised; about one household in
eight belongs to a key target group (POLICY.md "six groups"), civil-affairs groups the most common.
"""

from __future__ import annotations

import datetime as dt
import random
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate

from anju.core import idnumber

from . import vocab

# Dates that look recent but never lie in the future, whatever day the demo is run.
RECENT_FIRST = dt.date(2019, 1, 1)
RECENT_LAST = dt.date(2025, 6, 30)
BIRTH_FIRST = dt.date(1935, 1, 1)
BIRTH_LAST = dt.date(2000, 12, 31)
BIRTH_DAYS = (BIRTH_LAST - BIRTH_FIRST).days + 1

# Loess-hill counties where caves and earth houses dominate: 横山 绥德 米脂 佳县 吴堡 清涧 子洲.
LOESS_COUNTIES = frozenset({"610803", "610826", "610827", "610828", "610829", "610830", "610831"})

# Rough share of Yulin's rural households by county.
COUNTY_WEIGHTS: dict[str, float] = {
    "610802": 12,  # 榆阳区
    "610803": 11,  # 横山区
    "610822": 8,  # 府谷县
    "610824": 10,  # 靖边县
    "610825": 11,  # 定边县
    "610826": 10,  # 绥德县
    "610827": 5,  # 米脂县
    "610828": 7,  # 佳县
    "610829": 3,  # 吴堡县
    "610830": 6,  # 清涧县
    "610831": 7,  # 子洲县
    "610881": 11,  # 神木市
}

# Approximate county seats (lon, lat); villages scatter around them, clamped to Yulin's box.
COUNTY_CENTRES: dict[str, tuple[float, float]] = {
    "610802": (109.73, 38.28),
    "610803": (109.29, 37.96),
    "610822": (111.07, 39.03),
    "610824": (108.79, 37.60),
    "610825": (107.60, 37.59),
    "610826": (110.26, 37.50),
    "610827": (110.18, 37.76),
    "610828": (110.49, 38.02),
    "610829": (110.74, 37.45),
    "610830": (110.12, 37.17),
    "610831": (110.03, 37.61),
    "610881": (110.50, 38.84),
}
YULIN_BOX = ((107.2, 111.3), (36.9, 39.6))

# Address codes older heads still carry: 6127xx of 榆林地区 (before 2000), 610821 神木县, 610823 横山县.
PRE_2000_CODES: dict[str, tuple[str, ...]] = {
    "610802": ("612721", "612701"),  # 榆林县, then 榆林市 (county-level)
    "610803": ("612724",),
    "610822": ("612723",),
    "610824": ("612725",),
    "610825": ("612726",),
    "610826": ("612727",),
    "610827": ("612728",),
    "610828": ("612729",),
    "610829": ("612730",),
    "610830": ("612731",),
    "610831": ("612732",),
    "610881": ("612722",),
}
PRE_2017_CODES: dict[str, str] = {"610881": "610821", "610803": "610823"}
PREFECTURE_CODE = "612700"  # 榆林地区 itself, on a few very old cards

STRUCTURES_LOESS = [
    ("earth_cave", 26),
    ("stone_cave", 22),
    ("brick_cave", 14),
    ("earth_wood", 8),
    ("raw_earth", 5),
    ("brick_wood", 9),
    ("brick_concrete", 11),
    ("stone", 2),
    ("frame", 2),
    ("other", 1),
]
STRUCTURES_PLAIN = [
    ("brick_concrete", 32),
    ("brick_wood", 18),
    ("frame", 7),
    ("brick_cave", 11),
    ("earth_cave", 7),
    ("stone_cave", 4),
    ("earth_wood", 9),
    ("raw_earth", 6),
    ("stone", 2),
    ("timber", 1),
    ("other", 3),
]
# A household's second house is usually the old one it moved out of: an earth or cave house.
STRUCTURES_OLD = [
    ("earth_cave", 35),
    ("stone_cave", 20),
    ("brick_cave", 10),
    ("earth_wood", 15),
    ("raw_earth", 10),
    ("brick_wood", 7),
    ("stone", 3),
]

EARTH = frozenset({"earth_cave", "earth_wood", "raw_earth"})
MODERN = frozenset({"brick_concrete", "frame"})
# (P(D), P(C), P(unrated)) by class; A/B share the rest ~1:1 for earth, 2:1 for modern.
GRADE_ODDS = {"earth": (0.018, 0.042, 0.07), "brick": (0.005, 0.017, 0.06), "modern": (0.001, 0.005, 0.05)}
A_SHARE = {"earth": 0.30, "brick": 0.52, "modern": 0.66}

# Build years (low, high, mode) by structure.
BUILD_YEARS = {
    "earth_cave": (1950, 2005, 1975),
    "stone_cave": (1955, 2012, 1982),
    "brick_cave": (1965, 2018, 1990),
    "earth_wood": (1950, 2005, 1975),
    "raw_earth": (1950, 2000, 1972),
    "brick_wood": (1965, 2018, 1992),
    "stone": (1955, 2010, 1980),
    "timber": (1955, 2010, 1980),
    "brick_concrete": (1985, 2024, 2010),
    "frame": (1998, 2024, 2016),
    "other": (1960, 2022, 1995),
}
AREAS = {"cave": (35.0, 120.0), "earth": (30.0, 110.0), "brick": (50.0, 160.0), "modern": (70.0, 200.0)}

# Target groups (codes of registry.reference.DEFAULT_CATEGORIES): civil affairs certifies the common ones.
CATEGORY_WEIGHTS = [
    ("dibao", 35),
    ("dibao_bianyuan", 20),
    ("tekun", 10),
    ("yifanpin", 15),
    ("qita_tuopin", 15),
    ("tufa", 5),
]
TARGET_SHARE = 0.125
SECURITY_METHODS = [("own", 93), ("relatives", 3), ("rented", 2), ("public_rental", 1.2), ("other", 0.8)]
HOUSEHOLD_SIZES = [(1, 10), (2, 22), (3, 20), (4, 22), (5, 14), (6, 7), (7, 3), (8, 2)]


@dataclass(frozen=True, slots=True)
class VillageRef:
    """What the generator needs of a village: its code and whether its town is an urban 街道."""

    code: str
    street_town: bool = False


@dataclass(slots=True)
class HouseSpec:
    structure: str
    build_year: int
    storeys: int
    floor_area: str
    longitude: str
    latitude: str
    is_idle: bool
    grade: str
    graded_on: str | None
    appraiser: str


@dataclass(slots=True)
class HouseholdSpec:
    village: str
    head_name: str
    id_number: str
    id_key: tuple[str, int, int]
    phone: str
    size: int
    group_name: str
    security_method: str
    categories: list[tuple[str, str]] = field(default_factory=list)
    houses: list[HouseSpec] = field(default_factory=list)

    def digest_line(self) -> str:
        """Everything generated, ID number included, in one stable line (for the run's SHA-256)."""
        parts = [
            self.village,
            self.head_name,
            self.id_number,
            self.phone,
            str(self.size),
            self.group_name,
            self.security_method,
        ]
        parts += [f"{code}@{day}" for code, day in self.categories]
        for h in self.houses:
            parts.append(
                f"{h.structure},{h.build_year},{h.storeys},{h.floor_area},{h.longitude},{h.latitude},"
                f"{int(h.is_idle)},{h.grade},{h.graded_on},{h.appraiser}"
            )
        return "|".join(parts) + "\n"


class IdAllocator:
    """Unique ID numbers by construction: each (address code, birth day, sex) hands out its 500 sequence
    numbers in turn and then spills to the next day, so a million heads never collide and no set of
    issued numbers has to be kept in memory (one counter per slot: ~2 MB)."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._used: list[array] = []

    def _slots(self, code: str) -> array:
        index = self._codes.get(code)
        if index is None:
            index = self._codes[code] = len(self._used)
            self._used.append(array("H", bytes(2 * 2 * BIRTH_DAYS)))
        return self._used[index]

    def take(self, code: str, day: int, male: int) -> str:
        used = self._slots(code)
        for _ in range(BIRTH_DAYS):
            slot = day * 2 + male
            n = used[slot]
            if n < 500:
                used[slot] = n + 1
                start = (day * 37 + self._codes[code] * 101) % 500
                sequence = ((start + n) % 500) * 2 + male  # odd = male (GB 11643)
                return idnumber.compose(code, BIRTH_FIRST + dt.timedelta(days=day), sequence)
            day = (day + 1) % BIRTH_DAYS
        raise OverflowError(f"address code {code} has no free ID numbers left")


class _Picker:
    """Weighted choice by bisecting cumulative weights (much cheaper than `random.choices` per call)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[object, float]]) -> None:
        self.items = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.items[bisect_right(self.cum, rng.random() * self.total)]


def _date_strings(first: dt.date, last: dt.date) -> list[str]:
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def village_names(town_code: str) -> list[str]:
    """5–20 distinct village names for one town, the same every time for that town code."""
    rng = random.Random(f"anju-demo-villages:{town_code}")
    surname = _Picker([(s, w) for s, _, w in vocab.SURNAMES])
    suffix = _Picker([(s, w) for s, _, w in vocab.VILLAGE_SUFFIXES])
    names: list[str] = []
    count = rng.randint(5, 20)
    while len(names) < count:
        if rng.random() < 0.85:
            name = f"{surname(rng)}家{suffix(rng)}村"
        else:
            name = f"{rng.choice(vocab.PLACE_WORDS)[0]}{suffix(rng)}村"
        if name not in names:
            names.append(name)
    return names


def _village_traits(code: str) -> tuple[float, float, float, int]:
    """Stable per-village weight factor, centre and number of groups (from the code, not the run seed)."""
    rng = random.Random(f"anju-demo-village:{code}")
    lon0, lat0 = COUNTY_CENTRES.get(code[:6], (109.73, 38.28))
    (lon_lo, lon_hi), (lat_lo, lat_hi) = YULIN_BOX
    lon = min(max(lon0 + rng.uniform(-0.35, 0.35), lon_lo + 0.05), lon_hi - 0.05)
    lat = min(max(lat0 + rng.uniform(-0.3, 0.3), lat_lo + 0.05), lat_hi - 0.05)
    return rng.uniform(0.5, 1.6), lon, lat, rng.randint(3, 8)


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` exactly (largest remainder), deterministically."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: (-(shares[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


class DemoGenerator:
    """Households for the given villages, village by village in code order (so ids cluster by village)."""

    def __init__(self, *, seed: int, villages: Sequence[VillageRef]) -> None:
        self.rng = random.Random(seed)
        self.villages = sorted(villages, key=lambda v: v.code)
        self.ids = IdAllocator()
        self.recent_days = _date_strings(RECENT_FIRST, RECENT_LAST)
        self._surname = _Picker([(s, w) for s, _, w in vocab.SURNAMES])
        self._structure_loess = _Picker(STRUCTURES_LOESS)
        self._structure_plain = _Picker(STRUCTURES_PLAIN)
        self._structure_old = _Picker(STRUCTURES_OLD)
        self._category = _Picker(CATEGORY_WEIGHTS)
        self._security = _Picker(SECURITY_METHODS)
        self._size = _Picker(HOUSEHOLD_SIZES)
        self._appraisers = [self._name(male=self.rng.random() < 0.8) for _ in range(60)]
        self._traits = {v.code: _village_traits(v.code) for v in self.villages}

    def village_counts(self, total: int) -> list[int]:
        """How many households each village gets: county share × village factor, urban streets few."""
        per_county: dict[str, int] = {}
        for v in self.villages:
            per_county[v.code[:6]] = per_county.get(v.code[:6], 0) + 1
        weights = [
            COUNTY_WEIGHTS.get(v.code[:6], 5.0)
            / per_county[v.code[:6]]
            * self._traits[v.code][0]
            * (0.15 if v.street_town else 1.0)
            for v in self.villages
        ]
        return allocate(total, weights)

    def households(self, total: int) -> Iterator[HouseholdSpec]:
        for village, count in zip(self.villages, self.village_counts(total), strict=True):
            for _ in range(count):
                yield self._household(village.code)

    def reissue_id(self, spec: HouseholdSpec) -> None:
        """Give `spec` the next free number of the same code, birth day and sex (on a clash with real data)."""
        code, day, male = spec.id_key
        spec.id_number = self.ids.take(code, day, male)

    # -- one household ------------------------------------------------------------------------------------------

    def _name(self, *, male: bool) -> str:
        rng = self.rng
        chars = vocab.MALE_CHARS if male else vocab.FEMALE_CHARS
        given = rng.choice(chars) if rng.random() < 0.4 else rng.choice(chars) + rng.choice(chars)
        return self._surname(rng) + given

    def _phone(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.88:
            return rng.choice(vocab.MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
        if r < 0.92:
            return vocab.LANDLINE_PREFIX + f"{rng.randrange(2_000_000, 10_000_000)}"
        return ""

    def _id_number(self, county: str, male: int) -> tuple[str, tuple[str, int, int]]:
        rng = self.rng
        day = min(int(rng.triangular(0, BIRTH_DAYS, 0.42 * BIRTH_DAYS)), BIRTH_DAYS - 1)
        born_year = BIRTH_FIRST.year + day // 365
        code = county
        r = rng.random()
        if born_year < 1984 and r < 0.4 and county in PRE_2000_CODES:
            code = PREFECTURE_CODE if r < 0.01 else rng.choice(PRE_2000_CODES[county])
        elif born_year < 2000 and r < 0.3 and county in PRE_2017_CODES:
            code = PRE_2017_CODES[county]
        elif county not in idnumber.known_address_codes():
            code = "610802"
        return self.ids.take(code, day, male), (code, day, male)

    def _grade(self, structure: str, build_year: int, poor: bool) -> str:
        cls = "earth" if structure in EARTH else "modern" if structure in MODERN else "brick"
        p_d, p_c, p_u = GRADE_ODDS[cls]
        factor = (1.6 if build_year < 1980 else 1.0) * (1.5 if poor else 1.0)
        r = self.rng.random()
        if r < p_d * factor:
            return "D"
        if r < (p_d + p_c) * factor:
            return "C"
        r = self.rng.random()
        if r < p_u:
            return "U"
        return "A" if self.rng.random() < A_SHARE[cls] else "B"

    def _house(self, county: str, lon: float, lat: float, *, first: bool, poor: bool) -> HouseSpec:
        rng = self.rng
        if not first:
            structure = self._structure_old(rng)
        elif county in LOESS_COUNTIES:
            structure = self._structure_loess(rng)
        else:
            structure = self._structure_plain(rng)
        low, high, mode = BUILD_YEARS[structure]
        build_year = int(rng.triangular(low, high + 1, mode))
        if structure in MODERN:
            storeys = 1 if rng.random() < (0.5 if structure == "frame" else 0.85) else 2 + (rng.random() < 0.1)
            area_kind = "modern"
        else:
            storeys = 1
            area_kind = "cave" if structure.endswith("cave") else "earth" if structure in EARTH else "brick"
        low_a, high_a = AREAS[area_kind]
        area = min(200.0, max(30.0, rng.uniform(low_a, high_a) * (1.0 + 0.6 * (storeys - 1))))
        grade = self._grade(structure, build_year, poor)
        dangerous = grade in ("C", "D")
        idle_odds = (0.04 if first else 0.3) + (0.3 if dangerous else 0.0)
        graded_on = None if grade == "U" else self.recent_days[rng.randrange(len(self.recent_days))]
        return HouseSpec(
            structure=structure,
            build_year=build_year,
            storeys=storeys,
            floor_area=f"{area:.2f}",
            longitude=f"{lon + rng.uniform(-0.015, 0.015):.6f}",
            latitude=f"{lat + rng.uniform(-0.012, 0.012):.6f}",
            is_idle=rng.random() < idle_odds,
            grade=grade,
            graded_on=graded_on,
            appraiser="" if graded_on is None else rng.choice(self._appraisers),
        )

    def _household(self, village: str) -> HouseholdSpec:
        rng = self.rng
        county = village[:6]
        _, lon, lat, groups = self._traits[village]
        categories: list[tuple[str, str]] = []
        if rng.random() < TARGET_SHARE:
            first = self._category(rng)
            categories.append((first, self.recent_days[rng.randrange(len(self.recent_days))]))
            if rng.random() < 0.1:
                second = self._category(rng)
                if second != first:
                    categories.append((second, self.recent_days[rng.randrange(len(self.recent_days))]))
        poor = bool(categories)
        male = 1 if rng.random() < 0.85 else 0
        id_number, id_key = self._id_number(county, male)
        size = rng.randint(1, 2) if any(c == "tekun" for c, _ in categories) else self._size(rng)
        r = rng.random()
        house_count = 1 if r < 0.70 else 2 if r < 0.97 else 3
        houses = [self._house(county, lon, lat, first=i == 0, poor=poor) for i in range(house_count)]
        security = self._security(rng)
        if security != "own" and houses[0].grade not in ("C", "D") and rng.random() < 0.5:
            security = "own"  # living elsewhere is mostly how a dangerous house was made safe (P10)
        return HouseholdSpec(
            village=village,
            head_name=self._name(male=bool(male)),
            id_number=id_number,
            id_key=id_key,
            phone=self._phone(),
            size=size,
            group_name=vocab.GROUP_NAMES[rng.randrange(groups)],
            security_method=security,
            categories=categories,
            houses=houses,
        )
