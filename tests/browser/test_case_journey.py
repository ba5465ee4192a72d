"""End to end in real Chromium: a house appraised C is taken by the county manager, on a phone, from the case page
through the household's application and consent (P20), the plan with its subsidy (P21), design, a trained
craftsman (P17, P22), start, a site visit, completion and joint acceptance; the village and the county sign the
last of the four clears in the browser (P2), and the case is closed out (已销号)."""

from __future__ import annotations

import datetime as dt

import pytest

from anju.testing import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 740}


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", f.PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _submit(page) -> None:
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_case_from_c_to_closed(live_server, new_page, screenshot):
    from playwright.sync_api import expect

    from anju.cases.models import Case, SignOffKind
    from anju.cases.services.signoffs import signoff_sign
    from anju.testing import cases
    from anju.testing.scope import ensure_base_divisions

    ensure_base_divisions()
    village = f.village(f.YUYANG_TOWN, 1, "刘家沟村")
    f.user("yy_admin", f.YUYANG, "county_manager")
    owner = f.household(village, head_name="白窑洞")
    case = cases.dangerous_case(f.house(owner, structure="earth_cave"))
    cases.rate(amount="25000.00")
    builder = cases.craftsman(case)
    today = dt.date.today().isoformat()
    base = live_server.url
    case_url = f"{base}/cases/{case.pk}/"

    def move(page, name: str) -> None:
        with page.expect_navigation():
            page.click(f"#case-moves a[data-move='cases:{name}']")

    page = new_page(viewport=PHONE)
    _log_in(page, base, "yy_admin")
    page.goto(case_url)
    expect(page.locator("h1")).to_contain_text("已鉴定")
    expect(page.locator("#case-moves button[data-move='cases:case_plan']")).to_be_disabled()  # P20: consent first

    move(page, "case_apply")
    page.fill("#id_consent_on", today)
    page.fill("#id_consent_by", "白窑洞")
    page.check("#id_household_chose_plan")
    page.fill("#id_self_funding", "8000")
    screenshot(page, "case-apply-phone")
    _submit(page)
    expect(page.locator("main .alert-success")).to_contain_text("已登记农户申请与改造意愿")

    move(page, "case_plan")
    expect(page.locator("#subsidy-table")).to_contain_text("25000")
    page.select_option("#id_method", "reinforce")
    _submit(page)
    expect(page.locator("h1")).to_contain_text("已纳入计划")

    move(page, "case_design")
    page.check("#id_design_kind_0")
    page.fill("#id_design_reference", "陕农房-A1")
    _submit(page)
    move(page, "case_builder")
    page.select_option("#id_builder", label=builder.name)
    _submit(page)
    move(page, "case_start")
    page.check("#id_toilet_retrofit")
    screenshot(page, "case-start-phone")
    _submit(page)
    expect(page.locator("h1")).to_contain_text("施工中")

    move(page, "case_visit")
    page.fill("#id_findings", "墙体砌筑规范，圈梁已闭合")
    _submit(page)
    move(page, "case_complete")
    _submit(page)
    expect(page.locator("h1")).to_contain_text("已竣工")
    move(page, "case_accept")
    page.fill("#id_acceptance_team", "县住建局、镇村干部、农户")
    page.check("#id_household_signed")
    _submit(page)
    expect(page.locator("h1")).to_contain_text("已验收")

    # P2: nothing signed yet, so no close-out; most sign-offs through the service, the last ones in the browser
    page.goto(f"{base}/cases/{case.pk}/close/")
    expect(page.locator("#missing-signoffs")).to_contain_text("验收清（县级）")
    people = cases.signers(case)
    case = Case.objects.get(pk=case.pk)
    cases.sign(case, SignOffKind.PROBLEM, SignOffKind.APPRAISAL, SignOffKind.RENOVATION)

    village_page = new_page(viewport=PHONE)
    _log_in(village_page, base, people["village"].username)
    village_page.goto(case_url)
    move(village_page, "case_sign")
    expect(village_page.locator("#sign-level")).to_contain_text("村级")
    village_page.fill("#id_comment", "已竣工验收，农户已入住")
    _submit(village_page)
    expect(village_page.locator("main .alert-success")).to_contain_text("已签字")
    signoff_sign(actor=people["town"], case=case, kind=SignOffKind.ACCEPTANCE)

    page.goto(case_url)
    move(page, "case_sign")
    expect(page.locator("#signed-list")).to_contain_text("已竣工验收，农户已入住")
    _submit(page)
    move(page, "case_close")
    expect(page.locator("#missing-signoffs")).to_contain_text("十二项签字已齐全")
    _submit(page)
    expect(page.locator("h1")).to_contain_text("已销号")
    screenshot(page, "case-closed-phone")
    assert Case.objects.get(pk=case.pk).state == "closed"
