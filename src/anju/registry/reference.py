"""Default reference data: the six key target groups since 2021 and who certifies them (POLICY.md)."""

from __future__ import annotations

DEFAULT_CATEGORIES: list[tuple[str, str, list[str], str]] = [
    (
        "yifanpin",
        "农村易返贫致贫户",
        ["易返贫致贫户", "脱贫不稳定户", "边缘易致贫户", "监测对象"],
        "rural_revitalisation",
    ),
    ("dibao", "农村低保户", ["低保户", "低保", "低保对象"], "civil_affairs"),
    ("tekun", "农村分散供养特困人员", ["特困人员", "特困户", "分散供养特困人员", "五保户"], "civil_affairs"),
    ("tufa", "突发严重困难户", ["突发困难户", "突发严重困难"], "rural_revitalisation"),
    ("dibao_bianyuan", "农村低保边缘家庭", ["低保边缘户", "低保边缘家庭", "低保边缘"], "civil_affairs"),
    (
        "qita_tuopin",
        "未享受过农村住房保障政策支持且依靠自身力量无法解决住房安全问题的其他脱贫户",
        ["其他脱贫户", "脱贫户"],
        "rural_revitalisation",
    ),
]


def ensure_categories(model) -> None:
    """Create any missing default category; existing rows (maybe edited by the bureau) are left alone."""
    existing = set(model.objects.values_list("code", flat=True))
    model.objects.bulk_create(
        [
            model(code=code, name=name, short_names=shorts, department=dept, sort_order=i)
            for i, (code, name, shorts, dept) in enumerate(DEFAULT_CATEGORIES, start=1)
            if code not in existing
        ]
    )
