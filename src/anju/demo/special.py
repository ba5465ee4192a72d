"""The demo's special work (issue 6): disasters (P9), idle dangerous houses (P11), returns (P10), complaints and
publicity (P14, P15), policy cards (P13) and supervision (P3, P16), so a county bureau sees records on every page.

Written through each app's own services with the demo users as actors, mostly in 镇川镇 of 榆阳区 (where the demo
town and village users work, as in the ledger demo), with dates before today. Which houses and households are
used is decided by a generator seeded from the demo seed over houses in a fixed order. Each part is skipped when
its records are there already, so running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Exists, OuterRef
from django.utils import timezone
from PIL import Image

from anju.accounts.models import User
from anju.cards import services as cards
from anju.cards.models import Audience, CardDistribution, CardRound
from anju.cases.models import Case, SecureMeans
from anju.complaints import services as complaints
from anju.complaints.models import (
    Category,
    Channel,
    Complaint,
    Hotline,
    OpinionSource,
    PublicityKind,
    ReplyMethod,
    ReviewResult,
    Satisfaction,
)
from anju.core.scope import scope_q
from anju.disasters import services as disasters
from anju.disasters.models import (
    DamageLevel,
    DisasterEvent,
    DisasterKind,
    EmergencyPlan,
    ResettlementMethod,
    Season,
)
from anju.disasters.models import Department as DisasterDepartment
from anju.idle import services as idle
from anju.idle.models import IdleHouse, VisitResult
from anju.registry.models import DANGEROUS_GRADES, House, Household
from anju.returns import services as returns
from anju.returns.models import Housing, Tracking, TrackingKind
from anju.supervision import services as supervision
from anju.supervision.models import PlanRound, Verdict, Visit, VisitMode
from anju.supervision.models import Severity as FindingSeverity

YUYANG = "610802000000"
DEMO_TOWN = "610802102000"  # 镇川镇
SAMPLE = "（演示数据）"
EVENT_NAME = "{year}年7月榆阳区强降雨"
PLAN_ROUND_TITLE = "{year}年度农村危房改造实施方案备案"
# A minimal PDF: the services that require a document check its type and size only.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class SpecialReport:
    """How many records each part wrote now (0 when it was there already)."""

    made: dict[str, int] = field(default_factory=dict)


def _pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _png(name: str, shade: int) -> SimpleUploadedFile:
    """A small real picture (photos are decoded and checked); `shade` keeps each one distinct."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, shade % 256, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _houses(prefix: str, **filters: object) -> list[House]:
    """Demo houses under `prefix`, the demo town's first, in a fixed order (ids follow the seeded load)."""
    rows = list(House.objects.select_related("household").filter(scope_q("division_id", prefix), **filters))
    return sorted(rows, key=lambda h: (not h.division_id.startswith(DEMO_TOWN[:9]), h.pk))


def _reporter(people: dict[str, User], village_user: str, code: str) -> User | None:
    """The village user reports its own village, the town user the rest of 镇川镇, the county the others."""
    village = people.get(village_user)
    if village is not None and village.division_id == code:
        return village
    if code.startswith(DEMO_TOWN[:9]) and "zhenchuan_zhen" in people:
        return people["zhenchuan_zhen"]
    return people.get("yuyang_admin")


def demo_special_ensure(*, seed: int) -> SpecialReport:
    """Every part of the special work, each skipped when it is there already. P3, P9–P11, P13–P16."""
    from .services import demo_village_user

    today = timezone.localdate()
    people = {u.username: u for u in User.objects.select_related("division").filter(is_active=True)}
    if "yuyang_admin" not in people or "admin" not in people:
        return SpecialReport()
    village_user = getattr(demo_village_user(), "username", "")
    report = SpecialReport()
    rng = random.Random(f"{seed}:special")
    report.made["disasters"] = _disasters(rng, people, village_user, today)
    report.made["idle"] = _idle(rng, people, village_user, today)
    report.made["returns"] = _returns(rng, people, today)
    report.made["complaints"] = _complaints(rng, people, today)
    report.made["cards"] = _cards(people, village_user, today)
    report.made["supervision"] = _supervision(rng, people, today)
    return report


# -- P9 disasters -------------------------------------------------------------------------------------------------

DAMAGE = [  # (level, people affected, resettle how, description)
    (DamageLevel.COLLAPSED, 3, ResettlementMethod.RELATIVES, "连续强降雨致窑洞拱顶坍塌，人员已提前撤离"),
    (DamageLevel.SEVERE, 4, ResettlementMethod.TRANSITIONAL_HOUSE, "房后边坡滑塌，墙体大面积开裂"),
    (DamageLevel.SEVERE, 2, None, "窑脸外倾、裂缝贯通，暂住原房，待安置"),  # no resettlement: the alert shows
    (DamageLevel.MODERATE, 5, ResettlementMethod.RENTED, "屋面渗漏严重，后墙局部鼓胀"),
    (DamageLevel.MODERATE, 3, "", "院墙倒塌，房屋墙体轻微开裂"),
    (DamageLevel.MINOR, 2, "", "屋面瓦片脱落、少量渗漏"),
    (DamageLevel.MINOR, 4, "", "排水沟堵塞，墙根受潮"),
    (DamageLevel.MINOR, 1, "", "门窗受损，房屋结构完好"),
]
PLACES = {
    ResettlementMethod.RELATIVES: ("投靠本村亲属家（砖混结构，A级）", "村委会 王主任"),
    ResettlementMethod.TRANSITIONAL_HOUSE: ("镇川镇过渡安置房", "镇川镇应急办"),
    ResettlementMethod.RENTED: ("租住镇上民房（B级）", "村委会 李支书"),
}


def _disasters(rng: random.Random, people: dict[str, User], village_user: str, today: dt.date) -> int:
    county = people["yuyang_admin"]
    year = today.year
    made = 0
    if not EmergencyPlan.objects.filter(division_id=YUYANG, season=Season.FLOOD, year=year).exists():
        disasters.plan_file(
            actor=county,
            county_code=YUYANG,
            season=Season.FLOOD,
            year=year,
            title=f"榆阳区{year}年汛期农村住房安全应急预案{SAMPLE}",
            filed_on=min(dt.date(year, 5, 20), today),
            document=_pdf("flood-plan.pdf"),
        )
        made += 1
    # The last July rainstorm that is over: this year's once July is past, else last year's.
    event_year = year if today >= dt.date(year, 7, 25) else year - 1
    name = EVENT_NAME.format(year=event_year)
    if DisasterEvent.objects.filter(name=name, division_id=YUYANG).exists():
        return made
    started = dt.date(event_year, 7, 15)
    event = disasters.event_declare(
        actor=county,
        kind=DisasterKind.FLOOD,
        name=name,
        started_on=started,
        ended_on=started + dt.timedelta(days=3),
        affected_codes=[DEMO_TOWN],
        description=f"7月15日至18日镇川镇出现持续强降雨，部分窑洞和土木结构房屋受损{SAMPLE}",
        division_code=YUYANG,
        is_sample=True,
    )
    made += 1
    houses = [h for h in _houses(DEMO_TOWN[:9]) if h.household.size][: len(DAMAGE) * 6]
    chosen = sorted(rng.sample(houses, min(len(DAMAGE), len(houses))), key=lambda h: h.pk)
    for house, (level, affected, resettle, text) in zip(chosen, DAMAGE, strict=False):
        reporter = _reporter(people, village_user, house.division_id)
        damage = disasters.damage_report(
            actor=reporter,
            event=event,
            house=house,
            level=level,
            people_affected=min(affected, house.household.size),
            needs_resettlement=resettle != "",  # None: needs it, not yet resettled
            description=text,
            reported_on=started + dt.timedelta(days=1),
        )
        made += 1
        if resettle:
            place, confirmed_by = PLACES[resettle]
            disasters.resettlement_record(
                actor=reporter,
                report=damage,
                method=resettle,
                place=place,
                since=started + dt.timedelta(days=1),
                is_safe=True,
                confirmed_by=confirmed_by,
            )
            made += 1
    disasters.note_record(
        actor=county,
        event=event,
        department=DisasterDepartment.EMERGENCY,
        noted_on=started + dt.timedelta(days=2),
        content="与区应急管理局会商：受损房屋逐户鉴定，严重受损和倒塌户先行安置，救灾资金与危改补助统筹使用",
    )
    return made + 1


# -- P11 idle dangerous houses ------------------------------------------------------------------------------------

IDLE_COUNT = 6


def _idle(rng: random.Random, people: dict[str, User], village_user: str, today: dt.date) -> int:
    if IdleHouse.objects.filter(scope_q("division_id", YUYANG[:6])).exists():
        return 0
    houses = _houses(YUYANG[:6], grade__in=DANGEROUS_GRADES, is_idle=True)[: IDLE_COUNT * 4]
    chosen = sorted(rng.sample(houses, min(IDLE_COUNT, len(houses))), key=lambda h: h.pk)
    made = 0
    for i, house in enumerate(chosen):
        actor = _reporter(people, village_user, house.division_id)
        watcher = actor if actor is not None and actor.username != "yuyang_admin" else None
        listed_on = today - dt.timedelta(days=120 - 10 * i)
        record = idle.idle_list(
            actor=actor,
            house=house,
            listed_on=listed_on,
            watcher=watcher,
            watcher_name="" if watcher else "张建国",
            watcher_phone="" if watcher else "13800000000",
            note=f"户主外出务工，房屋长期闲置{SAMPLE}",
        )
        made += 1
        if i == len(chosen) - 1:  # listed months ago and never visited: the overdue visit alert (P11)
            continue
        if i % 2 == 0:
            record = idle.idle_secure(
                actor=actor,
                idle=record,
                sealed_on=listed_on + dt.timedelta(days=3),
                sealed_by="村委会",
                sign_posted_on=listed_on + dt.timedelta(days=3),
                sign_photo=_png("sign.png", i * 40),
            )
        visited = listed_on + dt.timedelta(days=25)
        while visited <= today - dt.timedelta(days=5):
            incident = visited == listed_on + dt.timedelta(days=55) and i == 1
            idle.idle_visit(
                actor=actor,
                idle=record,
                visited_on=visited,
                result=VisitResult.OCCUPIED if incident else VisitResult.EMPTY,
                action_taken="劝离临时借住的亲属，重新封闭门窗" if incident else "",
            )
            record.refresh_from_db()
            made += 1
            visited += dt.timedelta(days=28)
    return made


# -- P10 returns --------------------------------------------------------------------------------------------------


def _returns(rng: random.Random, people: dict[str, User], today: dt.date) -> int:
    if Tracking.objects.filter(scope_q("division_id", YUYANG[:6])).exists():
        return 0
    county, town = people["yuyang_admin"], people.get("zhenchuan_zhen")
    actor = town or county
    prefix = actor.scope_prefix
    made = 0
    secured = list(
        Case.objects.filter(returns.secured_case_q(), scope_q("household__division_id", prefix))
        .filter(secured_means__in=[SecureMeans.RELATIVES, SecureMeans.RENTED])  # 投亲靠友, 租住借住
        .select_related("household")
        .order_by("pk")[:3]
    )
    for case in secured:
        returns.tracking_start(actor=actor, household=case.household, origin_case=case, follower_name="镇川镇包村干部")
        made += 1
    has_case = Exists(Case.objects.filter(household=OuterRef("pk")))
    candidates = list(
        Household.objects.filter(scope_q("division_id", YUYANG[:6]), houses__grade__in=DANGEROUS_GRADES)
        .exclude(has_case)
        .exclude(pk__in=IdleHouse.objects.values("household_id"))
        .distinct()
        .order_by("pk")[:400]
    )
    candidates = sorted(candidates, key=lambda h: (not h.division_id.startswith(prefix), h.pk))[:40]
    returned = sorted(rng.sample(candidates, min(2, len(candidates))), key=lambda h: h.pk)
    for i, household in enumerate(returned):
        actor = town if town is not None and household.division_id.startswith(town.scope_prefix) else county
        tracking = returns.tracking_start(
            actor=actor,
            household=household,
            kind=TrackingKind.RETURNED,
            housing=Housing.OWN_DANGEROUS,
            returned_on=today - dt.timedelta(days=60 + 20 * i),
            housed_since=today - dt.timedelta(days=60 + 20 * i),
            follower_name="包村干部",
            notes="外出务工返乡，暂住原危房",
        )
        made += 1
        if i:
            continue
        explained_on = today - dt.timedelta(days=40)
        tracking = returns.tracking_explain(
            actor=actor,
            tracking=tracking,
            explained_on=explained_on,
            explained_by="包村干部",
            explanation="讲解危房改造补助标准、改造方式（加固、拆除重建）和申请程序，农户自筹部分及过渡期安置",
        )
        tracking = returns.tracking_confirm_wish(
            actor=actor,
            tracking=tracking,
            confirmed_on=explained_on + dt.timedelta(days=7),
            signed_by=household.head_name,
            signed=True,
        )
        returns.tracking_open_case(actor=actor, tracking=tracking, description="返乡户确认改造意愿，重新申请改造")
        made += 2
    return made


# -- P14, P15 complaints, publicity, public opinion ---------------------------------------------------------------

COMPLAINTS = [  # (channel, days ago received, category, content, how far it went)
    (Channel.HOTLINE, 90, Category.HOUSING_SAFETY, "反映自家窑洞雨后掉土，申请鉴定", "reviewed"),
    (Channel.LETTER, 75, Category.SUBSIDY, "询问危房改造补助何时拨付到户", "closed"),
    (Channel.HOTLINE, 60, Category.QUALITY, "反映改造房屋墙面开裂，施工质量有问题", "closed_dissatisfied"),
    (Channel.ONLINE, 45, Category.CONDUCT, "反映村干部入户核查走过场", "closed"),
    (Channel.VISIT, 30, Category.HOUSING_SAFETY, "邻居危房无人居住，担心倒塌伤人", "replied"),
    (Channel.HOTLINE, 40, Category.HOUSING_SAFETY, "反映老人独居危房，至今无人上门", "assigned"),  # overdue (P14)
    (Channel.HOTLINE, 6, Category.SUBSIDY, "询问重建补助标准和申请条件", "assigned"),
    (Channel.ONLINE, 3, Category.QUALITY, "反映加固工程进度缓慢", "received"),
    (Channel.LETTER, 2, Category.OTHER, "建议增加农房建设工匠培训", "received"),
    (Channel.HOTLINE, 1, Category.HOUSING_SAFETY, "反映房屋地基下沉，门框变形", "received"),
]
NAMES = ["刘", "张", "王", "李", "高", "白", "马", "郝", "贺", "杨"]
GIVEN = ["建华", "秀英", "海军", "桂兰", "志强", "玉梅", "福生", "春花"]


def _complaints(rng: random.Random, people: dict[str, User], today: dt.date) -> int:
    county = people["yuyang_admin"]
    handler = people.get("zhenchuan_zhen") or county
    made = 0
    if not Hotline.objects.filter(division_id=YUYANG).exists():
        complaints.hotline_set(
            actor=county,
            division_code=YUYANG,
            number="0912-3500000",
            published_on=dt.date(today.year, 1, 10) if today >= dt.date(today.year, 1, 10) else today,
            published_where="区政府网站、村务公开栏、农房安全明白卡（示例号码）",
        )
        made += 1
    if Complaint.objects.filter(scope_q("division_id", YUYANG[:6])).exists():
        return made
    households = _houses(DEMO_TOWN[:9])[:200]
    for i, (channel, ago, category, content, reach) in enumerate(COMPLAINTS):
        house = rng.choice(households) if households and i % 2 == 0 else None
        received = today - dt.timedelta(days=ago)
        complaint = complaints.complaint_register(
            actor=county,
            division_code=house.division_id if house else DEMO_TOWN,
            channel=channel,
            received_on=received,
            complainant_name=house.household.head_name if house else rng.choice(NAMES) + rng.choice(GIVEN),
            content=content,
            category=category,
            phone=f"1380000{i:04d}",
            household=house.household if house else None,
        )
        made += 1
        if reach == "received":
            continue
        complaint = complaints.complaint_assign(
            actor=county, complaint=complaint, handler=handler, assigned_on=received + dt.timedelta(days=1)
        )
        if reach == "assigned":
            continue
        replied = received + dt.timedelta(days=8)
        complaint = complaints.complaint_reply(
            actor=handler,
            complaint=complaint,
            reply_text="经入户核实，已安排鉴定并向当事人说明政策和办理进度",
            reply_method=ReplyMethod.PHONE if channel == Channel.HOTLINE else ReplyMethod.WRITTEN,
            replied_on=replied,
        )
        if reach == "replied":
            continue
        dissatisfied = reach == "closed_dissatisfied"
        complaint = complaints.complaint_close(
            actor=handler,
            complaint=complaint,
            satisfaction=Satisfaction.DISSATISFIED if dissatisfied else Satisfaction.SATISFIED,
            closed_on=replied + dt.timedelta(days=3),
            close_note="已安排施工单位返工并由镇上复查" if dissatisfied else "",
        )
        if reach == "reviewed":
            complaints.complaint_review(
                actor=county,
                complaint=complaint,
                review_note="回访农户，鉴定已完成并纳入改造计划，群众认可",
                review_result=ReviewResult.RESOLVED,
                reviewed_on=replied + dt.timedelta(days=30),
            )
    for ago, kind, title, audience in [
        (70, PublicityKind.DOOR_TO_DOOR, "入户发放农房安全明白卡，讲解危房改造政策", 120),
        (50, PublicityKind.MEETING, "镇川镇农村住房安全工作推进会", 60),
        (20, PublicityKind.POSTER, "村务公开栏张贴危房改造补助标准和监督举报电话", 300),
    ]:
        complaints.publicity_record(
            actor=handler,
            division_code=DEMO_TOWN,
            held_on=today - dt.timedelta(days=ago),
            kind=kind,
            title=title,
            audience=audience,
            notes=SAMPLE,
        )
        made += 1
    incident = complaints.incident_record(
        actor=county,
        division_code=YUYANG,
        found_on=today - dt.timedelta(days=12),
        source=OpinionSource.VIDEO,
        summary="短视频反映某村危房户雨季仍住在裂缝窑洞中",
        source_detail=f"短视频平台{SAMPLE}",
    )
    complaints.incident_respond(
        actor=county,
        incident=incident,
        response="当日核实：该户已于汛前搬至亲属家居住，原窑洞已封存并设警示标识；已在平台回应说明",
        responded_on=today - dt.timedelta(days=11),
    )
    return made + 2


# -- P13 policy cards ---------------------------------------------------------------------------------------------


def _cards(people: dict[str, User], village_user: str, today: dt.date) -> int:
    from anju.cards.selectors import renovated_household_ids

    made = 0
    if not CardRound.objects.filter(year=today.year).exists():
        deadline = max(dt.date(today.year, 12, 31), today + dt.timedelta(days=30))
        cards.round_set(actor=people["admin"], year=today.year, deadline=deadline, note=f"本年度明白卡发放{SAMPLE}")
        made += 1
    actor = people.get("zhenchuan_zhen")
    if actor is None or CardDistribution.objects.filter(distributed_by=actor).exists():
        return made
    town_households = Household.objects.filter(scope_q("division_id", actor.scope_prefix)).values_list("pk", flat=True)
    renovated = sorted(renovated_household_ids(town_households))
    households = renovated[: max(1, len(renovated) * 2 // 3)] if renovated else []
    on = today - dt.timedelta(days=10)
    if households:
        cards.cards_distribute(
            actor=actor, audience=Audience.HOUSEHOLD, recipient_ids=households, distributed_on=on, signed=True
        )
        made += len(households)
    staff = [people[name].pk for name in ("zhenchuan_zhen", village_user) if name in people]
    if staff:
        cards.cards_distribute(actor=actor, audience=Audience.STAFF, recipient_ids=staff, distributed_on=on)
        made += len(staff)
    return made


# -- P3, P16 supervision ------------------------------------------------------------------------------------------


def _supervision(rng: random.Random, people: dict[str, User], today: dt.date) -> int:
    city = people.get("shi_dudao") or people["admin"]
    county = people["yuyang_admin"]
    made = 0
    title = PLAN_ROUND_TITLE.format(year=today.year)
    plan_round = PlanRound.objects.filter(year=today.year, title=title).first()
    if plan_round is None:
        spring = dt.date(today.year, 3, 31)  # the county files in spring; early in the year the round is still open
        plan_round = supervision.round_create(
            actor=people["admin"],
            year=today.year,
            title=title,
            deadline=spring if today > spring + dt.timedelta(days=14) else today + dt.timedelta(days=30),
            note=SAMPLE,
        )
        supervision.plan_submit(
            actor=county,
            plan_round=plan_round,
            county_code=YUYANG,
            title=f"榆阳区{today.year}年农村危房改造实施方案{SAMPLE}",
            filed_on=min(plan_round.deadline, today) - dt.timedelta(days=5),
            document=_pdf("plan.pdf"),
        )
        made += 2
    if Visit.objects.filter(division_id=YUYANG).exists():
        return made
    ends = today - dt.timedelta(days=20)
    visit = supervision.visit_record(
        actor=city,
        county_code=YUYANG,
        starts_on=ends - dt.timedelta(days=2),
        ends_on=ends,
        mode=VisitMode.UNANNOUNCED,
        places=[DEMO_TOWN],
        members=[city],
        scope_note=f"汛期农村住房安全暗访{SAMPLE}",
    )
    houses = _houses(DEMO_TOWN[:9], grade__in=DANGEROUS_GRADES)[:60]
    house = rng.choice(houses) if houses else None
    findings = [
        (DEMO_TOWN, FindingSeverity.GENERAL, "镇川镇危房改造档案资料不全，部分户缺少鉴定照片", None),
        (
            house.division_id if house else DEMO_TOWN,
            FindingSeverity.SERIOUS,
            "抽查发现一户C/D级危房仍有人居住，未落实安置",
            house.household if house else None,
        ),
        (DEMO_TOWN, FindingSeverity.GENERAL, "村务公开栏未公示监督举报电话", None),
    ]
    recorded = []
    for code, severity, description, household in findings:
        recorded.append(
            supervision.finding_record(
                actor=city,
                visit=visit,
                division_code=code,
                description=description,
                severity=severity,
                household=household,
                fed_back_on=ends,
            )
        )
    # The first is rectified in time and accepted; the second is past its week (late); the third awaits acceptance.
    done = supervision.rectification_submit(
        actor=county,
        finding=recorded[0],
        done_on=ends + dt.timedelta(days=5),
        description="已逐户补齐鉴定照片和档案资料",
        evidence=_pdf("rectification.pdf"),
    )
    supervision.rectification_review(actor=city, rectification=done, verdict=Verdict.ACCEPTED, note="资料已补齐")
    supervision.rectification_submit(
        actor=county,
        finding=recorded[2],
        done_on=ends + dt.timedelta(days=4),
        description="各村公开栏已张贴监督举报电话",
    )
    return made + 1 + len(recorded) + 2
