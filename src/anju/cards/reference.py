"""The first version of both policy card texts (P13), from the 2021 Yulin plan (POLICY.md P13, P17, P19–P22).
The city edits them on /cards/ (each edit is a new version); these are only the starting point."""

from __future__ import annotations

HOUSEHOLD = {
    "title": "农村住房安全保障政策明白卡",
    "body": "\n".join(
        [
            "农村低收入群体等重点对象的住房经鉴定为C级、D级危房的，可申请危房改造，按年度标准享受政府补助。",
            "改造以农户自筹为主、政府补助为辅；农户是改造主体，自愿申请，参与方案选择、质量监督和竣工验收。",
            "C级危房原则上加固改造，D级危房原则上拆除重建；提倡采用《陕西省农房设计图集》，同步节能改造和改厕。",
            "须由经过培训的建筑工匠施工；县住建部门逐户巡查，竣工验收合格后拨付补助资金。",
            "施工期间须有安全的过渡住房，不得居住在危房中；发现房屋出现裂缝、倾斜等险情，请立即向村镇报告。",
        ]
    ),
    "feedback": (
        "对改造政策、补助资金、工程质量或工作作风有疑问和意见，可向镇村干部反映，或拨打下方电话；扫描二维码可直接拨打。"
    ),
}
STAFF = {
    "title": "农村住房安全保障工作人员明白卡",
    "body": "\n".join(
        [
            "每年3—4月开展农村住房安全排查，县、镇、村三级联动，不漏一户；发现疑似危房立即上报，由县住建部门组织鉴定。",
            "鉴定为危房的逐户建立整改台账，落实“四清一责任”，解决一户、销号一户。",
            "1—6月鉴定的危房须于当年11月30日前完成改造，7—12月鉴定的须于次年5月31日前完成。",
            "参与排查、鉴定、改造的人员每年至少参加一次培训，未经培训不得参与。",
            "汛期、冻融期加密排查，灾后第一时间上报灾情，优先做好过渡安置。",
        ]
    ),
    "feedback": (
        "接待群众来访要热情耐心：听清诉求、讲清政策、登记在案、按时答复；不能当场解决的，告知办理时限和监督举报电话。"
    ),
}


def ensure_templates(model) -> None:
    """Version 1 of a card whose audience has no text yet; edited texts are left alone."""
    for audience, text in (("household", HOUSEHOLD), ("staff", STAFF)):
        if not model.objects.filter(audience=audience).exists():
            model.objects.create(audience=audience, version=1, **text)
