"""Every ledger move page under the scope/permission helper: anonymous → login, a role without the move → 403,
a case outside the subtree → 404 (nothing written), a permitted move → its audit event by the actor in the request.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, ClassVar

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from anju.audit.actions import Action
from anju.audit.models import Event
from anju.cases.models import Case, CaseState, SignOffKind, SiteVisit, TransitionalHousing
from anju.cases.services import cases as case_services
from anju.cases.services import renovation as works
from anju.testing import appraisals, cases, factories
from anju.testing.scope import ScopeTestCase, ViewTestCases, form_errors

TODAY = dt.date.today().isoformat()


def dangerous(village: Any) -> Case:
    return cases.dangerous_case(factories.house(factories.household(village)))


def png(colour: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return SimpleUploadedFile("photo.png", buffer.getvalue(), content_type="image/png")


class CaseWorld(ScopeTestCase):
    """Cases appraised C in every fixture village; the moves' actions are `cases.<verb>`."""

    __test__ = False
    model = Case
    VERBS: ClassVar[dict[str, str]] = {"add": "open", "change": "open"}

    @classmethod
    def build_in_scope(cls, village):
        return dangerous(village)

    def may(self, key: str, verb: str) -> bool:
        return super().may(key, self.VERBS.get(verb, verb))


class CaseCreatePageTests(CaseWorld, ViewTestCases.AddView):
    """cases:case_create /cases/new/?household=<id> (P1, P19)."""

    create_action = Action.CASE_OPENED
    add_url_has_parent = True

    @classmethod
    def page_url_name(cls, action: str) -> str:
        return super().page_url_name({"add": "create"}.get(action, action))

    def add_url(self, near: Any) -> str:
        return reverse("cases:case_create") + f"?household={near.household_id}"

    def create_data(self, near: Any) -> dict[str, Any]:
        return {"source": "complaint", "description": "信访反映房屋后墙开裂"}

    def test_missing_or_bad_household_is_404(self) -> None:
        self.as_user("county")
        for query in ("", "?household=abc", "?household=999999"):
            self.assertEqual(self.client.get(reverse("cases:case_create") + query).status_code, 404)


class CaseEditPageTests(CaseWorld, ViewTestCases.EditView):
    update_action = Action.CASE_CHANGED

    def update_data(self, obj: Any) -> dict[str, Any]:
        return {"description": obj.description + "。", "measures": obj.measures, "version": obj.version}


class MovePage(CaseWorld):
    """One move page: `covers[0]` is its URL name, `verb` the action (`cases.<verb>`) it needs, `action` the audit
    action a successful move leaves (after `also`, events the move writes elsewhere first)."""

    __test__ = False
    verb: ClassVar[str]
    action: ClassVar[str]
    also: ClassVar[tuple[str, ...]] = ()
    actor_key: ClassVar[str] = "county"

    def url(self, obj: Any) -> str:
        return reverse(self.covers[0], kwargs=self.url_kwargs(obj))

    def ready(self) -> Any:
        """An object the move can be made on now."""
        return self.in_scope[0]

    def data(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    def case_of(self, obj: Any) -> Case:
        return obj if isinstance(obj, Case) else obj.case

    def post(self, key: str | None, obj: Any) -> Any:
        self.as_user(key)
        return self.client.post(self.url(obj), self.data(type(obj).objects.get(pk=obj.pk)))

    def test_anonymous_redirects_and_writes_nothing(self) -> None:
        obj = self.in_scope[0]
        self.as_user(None)
        self.assertLoginRedirect(self.client.get(self.url(obj)))
        before = self.snapshot()
        self.assertLoginRedirect(self.post(None, obj))
        self.assertNothingWritten(before, "anonymous")

    def test_page_status_for_every_user_and_object(self) -> None:
        for key in self.user_keys():
            self.as_user(key)
            for obj in self.fixture_objects():
                with self.subTest(user=key, obj=self.scope_code(obj)):
                    response = self.client.get(self.url(obj))
                    if not self.may(key, self.verb):
                        self.assertEqual(response.status_code, 403)
                    else:
                        self.assertEqual(response.status_code, 200 if self.can_see(key, obj) else 404)

    def test_refused_without_the_action(self) -> None:
        keys = [k for k in self.user_keys() if not self.may(k, self.verb)]
        self.assertTrue(keys)
        for key in keys:
            with self.subTest(user=key):
                before = self.snapshot()
                response = self.post(key, self.in_scope[0])
                self.assertEqual(response.status_code, 403)
                self.assertNothingWritten(before, response)

    def test_other_county_and_sibling_town_are_404(self) -> None:
        pairs = [("county", self.out_of_scope), ("other_county", self.in_scope[0]), ("town", self.in_sibling_town)]
        pairs = [(key, obj) for key, obj in pairs if self.may(key, self.verb)]
        self.assertGreaterEqual(len(pairs), 2)
        for key, obj in pairs:
            with self.subTest(user=key):
                before = self.snapshot()
                response = self.post(key, obj)
                self.assertEqual(response.status_code, 404)
                self.assertNothingWritten(before, response)

    def test_move_writes_its_audit_event(self) -> None:
        obj = self.ready()
        case, since = self.case_of(obj), self.last_event_id()
        response = self.post(self.actor_key, obj)
        self.assertEqual(response.status_code, 302, form_errors(response))
        self.assertEqual(response["Location"], reverse("cases:case_detail", kwargs={"pk": case.pk}))
        events = list(Event.objects.filter(pk__gt=since).order_by("id"))
        self.assertEqual([e.action for e in events], [*self.also, self.action])
        actor = self.users[self.actor_key]
        for event in events:
            self.assertEqual((event.actor_id, event.request_id), (actor.pk, response["X-Request-ID"]))
        self.assertEqual((events[-1].object_id, events[-1].division_code), (str(case.pk), case.division_id))


def registered(village: Any) -> Case:
    """A case opened from a complaint for a house not yet appraised (登记)."""
    household = factories.household(village)
    house = factories.house(household)
    return case_services.case_open(
        actor=factories._system(village),
        household=household,
        house=house,
        source="complaint",
        description="信访反映房屋开裂",
    )


class RequestAppraisalPageTests(MovePage):
    covers = ("cases:case_request_appraisal",)
    verb = "open"
    action = Action.CASE_APPRAISAL_REQUESTED
    also = (Action.REQUEST_OPENED,)

    def ready(self) -> Case:
        return registered(self.villages["home"])

    def data(self, obj: Case) -> dict[str, Any]:
        return {"description": "", "version": obj.version}


class UseAppraisalPageTests(MovePage):
    covers = ("cases:case_use_appraisal",)
    verb = "manage"
    action = Action.CASE_APPRAISED

    def ready(self) -> Case:
        household = factories.household(self.villages["home"])
        house = factories.house(household)
        appraisals.appraisal(house)  # A: no case is opened by it
        return case_services.case_open(
            actor=factories._system(house.division), household=household, house=house, source="complaint",
            description="信访",
        )  # fmt: skip

    def data(self, obj: Case) -> dict[str, Any]:
        appraisal = obj.house.appraisals.first() if obj.house_id else None
        return {"appraisal": appraisal.pk if appraisal else "", "version": obj.version}


class ApplyPageTests(MovePage):
    covers = ("cases:case_apply",)
    verb = "apply"
    action = Action.RENOVATION_APPLIED

    def data(self, obj: Case) -> dict[str, Any]:
        return {
            "applied_on": TODAY,
            "consent_on": TODAY,
            "consent_by": "户主",
            "self_funding": "5000",
            "version": obj.version,
        }


class PlanPageTests(MovePage):
    covers = ("cases:case_plan",)
    verb = "manage"
    action = Action.CASE_PLANNED

    def ready(self) -> Case:
        case = dangerous(self.villages["home"])
        works.renovation_apply(
            actor=cases.manager(case),
            case=case,
            applied_on=dt.date.today(),
            consent_on=dt.date.today(),
            consent_by="户主",
        )
        cases.rate()
        return case

    def data(self, obj: Case) -> dict[str, Any]:
        return {"method": "reinforce", "planned_on": TODAY, "version": obj.version}


class DesignPageTests(MovePage):
    covers = ("cases:case_design",)
    verb = "manage"
    action = Action.RENOVATION_DESIGNED

    def data(self, obj: Case) -> dict[str, Any]:
        return {"design_kind": "atlas", "design_reference": "陕农房-A1", "version": obj.version}


class BuilderPageTests(MovePage):
    covers = ("cases:case_builder",)
    verb = "manage"
    action = Action.RENOVATION_BUILDER_SET

    def data(self, obj: Case) -> dict[str, Any]:
        return {"builder": cases.craftsman(obj).pk, "version": obj.version}


class StartPageTests(MovePage):
    covers = ("cases:case_start",)
    verb = "manage"
    action = Action.CASE_STARTED

    def ready(self) -> Case:
        case = cases.advance(dangerous(self.villages["home"]), CaseState.PLANNED)
        works.renovation_design(actor=cases.manager(case), case=case, design_kind="atlas", design_reference="A1")
        works.renovation_builder(actor=cases.manager(case), case=case, builder=cases.craftsman(case))
        return Case.objects.get(pk=case.pk)

    def data(self, obj: Case) -> dict[str, Any]:
        return {"started_on": TODAY, "must_move_out": "on", "version": obj.version}


class VisitPageTests(MovePage):
    covers = ("cases:case_visit",)
    verb = "visit"
    action = Action.SITE_VISIT_RECORDED

    def ready(self) -> Case:
        return cases.advance(dangerous(self.villages["home"]), CaseState.UNDER_CONSTRUCTION)

    def data(self, obj: Case) -> dict[str, Any]:
        return {"visited_on": TODAY, "findings": "墙体砌筑规范"}


class VisitFixPageTests(MovePage):
    covers = ("cases:visit_fix",)
    model = SiteVisit
    verb = "visit"
    action = Action.SITE_VISIT_FIXED

    @classmethod
    def build_in_scope(cls, village):
        case = cases.advance(dangerous(village), CaseState.UNDER_CONSTRUCTION)
        return works.site_visit_add(
            actor=cases.manager(case), case=case, visited_on=dt.date.today(), findings="圈梁未闭合",
            needs_fix=True, fix_due_on=dt.date.today(),
        )  # fmt: skip

    def data(self, obj: SiteVisit) -> dict[str, Any]:
        return {"fixed_on": TODAY, "fix_note": "已补浇圈梁"}


class CompletePageTests(MovePage):
    covers = ("cases:case_complete",)
    verb = "manage"
    action = Action.CASE_COMPLETED

    def ready(self) -> Case:
        case = cases.advance(dangerous(self.villages["home"]), CaseState.UNDER_CONSTRUCTION)
        works.site_visit_add(actor=cases.manager(case), case=case, visited_on=dt.date.today(), findings="规范")
        return Case.objects.get(pk=case.pk)

    def data(self, obj: Case) -> dict[str, Any]:
        return {"completed_on": TODAY, "version": obj.version}


class AcceptPageTests(MovePage):
    covers = ("cases:case_accept",)
    verb = "manage"
    action = Action.CASE_ACCEPTED

    def ready(self) -> Case:
        return cases.advance(dangerous(self.villages["home"]), CaseState.COMPLETED)

    def data(self, obj: Case) -> dict[str, Any]:
        return {
            "accepted_on": TODAY,
            "acceptance_team": "县住建局、镇村干部、农户",
            "household_signed": "on",
            "version": obj.version,
        }


class PaymentPageTests(MovePage):
    covers = ("cases:case_payment",)
    verb = "manage"
    action = Action.SUBSIDY_PAID

    def ready(self) -> Case:
        return cases.advance(dangerous(self.villages["home"]), CaseState.ACCEPTED)

    def data(self, obj: Case) -> dict[str, Any]:
        return {"paid_on": TODAY, "amount": "1000", "account": "6228480012345678"}


class TransitionalPageTests(MovePage):
    covers = ("cases:case_transitional",)
    verb = "apply"
    action = Action.TRANSITIONAL_RECORDED

    def data(self, obj: Case) -> dict[str, Any]:
        return {"kind": "relatives", "place": "本村李某家", "from_on": TODAY}


class TransitionalConfirmPageTests(MovePage):
    covers = ("cases:transitional_confirm",)
    model = TransitionalHousing
    verb = "apply"
    action = Action.TRANSITIONAL_CONFIRMED

    @classmethod
    def build_in_scope(cls, village):
        case = dangerous(village)
        return works.transitional_add(
            actor=cases.manager(case), case=case, kind="rented", place="镇上租房", from_on=dt.date.today()
        )

    def data(self, obj: TransitionalHousing) -> dict[str, Any]:
        return {"confirmed_on": TODAY}


class PhotoPageTests(MovePage):
    covers = ("cases:case_photo",)
    verb = "apply"
    action = Action.CASE_PHOTO_ADDED

    def data(self, obj: Case) -> dict[str, Any]:
        return {"stage": "before", "photo": png()}

    def test_phone_camera_input(self) -> None:
        self.as_user("village")
        response = self.client.get(self.url(self.in_scope[0]))
        self.assertContains(response, 'accept="image/*"')
        self.assertContains(response, 'capture="environment"')


class SecurePageTests(MovePage):
    covers = ("cases:case_secure",)
    verb = "manage"
    action = Action.CASE_SECURED
    also = (Action.HOUSEHOLD_CHANGED,)

    def data(self, obj: Case) -> dict[str, Any]:
        return {
            "means": "relatives",
            "secured_on": TODAY,
            "evidence": "投靠儿子，其住房鉴定为A级",
            "version": obj.version,
        }


class CancelPageTests(MovePage):
    covers = ("cases:case_cancel",)
    verb = "manage"
    action = Action.CASE_CANCELLED

    def data(self, obj: Case) -> dict[str, Any]:
        return {"reason": "重复登记", "version": obj.version}


class ClosePageTests(MovePage):
    covers = ("cases:case_close",)
    verb = "manage"
    action = Action.CASE_CLOSED

    def ready(self) -> Case:
        return cases.sign(cases.advance(dangerous(self.villages["home"]), CaseState.ACCEPTED))

    def data(self, obj: Case) -> dict[str, Any]:
        return {"closed_on": TODAY, "version": obj.version}


class SignPageTests(MovePage):
    """P2: the village signs first; any sign-off kind in the URL, an unknown kind is 404."""

    covers = ("cases:case_sign",)
    verb = "sign"
    action = Action.SIGNOFF_SIGNED
    actor_key = "village"

    def url_kwargs(self, obj: Case) -> dict[str, Any]:
        return {"pk": obj.pk, "kind": SignOffKind.PROBLEM}

    def data(self, obj: Case) -> dict[str, Any]:
        return {"comment": "问题属实"}

    def test_unknown_kind_is_404(self) -> None:
        self.as_user("village")
        url = reverse("cases:case_sign", kwargs={"pk": self.in_scope[0].pk, "kind": "everything"})
        self.assertEqual(self.client.get(url).status_code, 404)
