"""The workshop app in real Chromium at phone, laptop and projector sizes: joining a room by
its link on a phone, voting, the facilitator taking the room back, a new scenario's own firm
count, a page in Spanish with no English left. One app server and one browser for the module."""
from __future__ import annotations

import re
import shutil

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from sim.viz.i18n import TEXT  # noqa: E402
from sim.viz.serve import CHROMIUM, AppServer, launch_chromium, open_app  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
if shutil.which(CHROMIUM) is None:
    pytestmark.append(pytest.mark.skip(reason=f"{CHROMIUM} missing: `make sysdeps` installs Debian's chromium"))

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
PROJECTOR = {"width": 1920, "height": 1080}
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("results")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, results_dir):
    log = tmp_path_factory.mktemp("app") / "server.log"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SIM_APP_RESULTS_DIR", str(results_dir))  # the debriefs of this server
        with AppServer(log_path=str(log)) as url:
            yield url


@pytest.fixture(scope="module")
def browser(app_url):
    with playwright_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def open_room(page) -> tuple[str, str]:
    """The facilitator opens a room: (code, the facilitator's link with its key)."""
    page.get_by_role("button", name=re.compile("Open a room|Abrir una sala")).click()
    code = re.search(r"(?:Room|Sala)\s+([A-Z0-9]{5})", page.locator(".sim-room-code").inner_text(timeout=WAIT_MS)).group(1)
    link = re.search(r"(http://\S+key=\S+)", page.locator(".sim-facilitator-link").inner_text()).group(1)
    return code, link


def in_room(page, code: str) -> None:
    page.locator(".sim-room-code").filter(has_text=code).wait_for(timeout=WAIT_MS)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_phone_participant_joins_by_link_proposes_two_levers_and_votes(browser, app_url, results_dir):
    fac_ctx = browser.new_context(viewport=LAPTOP)
    phone_ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        phone = open_app(phone_ctx, app_url)
        # the room code field is wide enough to type in, and nothing overflows the screen
        field = phone.get_by_label("Room code")
        assert field.bounding_box()["width"] > 120
        field.fill("abc")
        assert field.input_value() == "abc"
        assert no_horizontal_scroll(phone)
        phone.set_viewport_size({"width": 360, "height": 740})  # the narrowest phones in use
        phone.wait_for_timeout(300)
        assert no_horizontal_scroll(phone) and field.bounding_box()["width"] > 120
        phone.set_viewport_size(PHONE)
        fac = open_app(fac_ctx, app_url)
        code, _ = open_room(fac)
        assert fac.locator(".sim-qr svg").count() == 1  # the QR code of the room's link
        phone.goto(f"{app_url}/?room={code}")  # the link the QR code holds
        in_room(phone, code)
        assert no_horizontal_scroll(phone)
        assert phone.get_by_role("button", name="Step", exact=True).is_disabled()
        # the page stacks: the levers card is as wide as the screen, its sliders span it
        levers = phone.locator(".sim-levers")
        assert levers.bounding_box()["width"] > 330
        levers.locator(".v-input--checkbox").nth(5).click()  # carbon price: on
        slider = levers.get_by_role("slider", name=re.compile("Price in the start year"))
        assert slider.evaluate("e => e.closest('.v-slider').getBoundingClientRect().width") > 250
        # the page re-rendered with the instrument on (its sliders are disabled while it is off)
        phone.get_by_role("button", name=re.compile(r"Propose \(1\)")).wait_for(timeout=WAIT_MS)
        slider.focus()
        slider.press("End")
        propose = phone.get_by_role("button", name=re.compile(r"Propose \(2\)"))
        propose.scroll_into_view_if_needed()
        assert propose.is_visible()
        propose.click()
        proposal = fac.locator(".sim-proposal").first
        proposal.wait_for(timeout=WAIT_MS)
        text = proposal.inner_text()
        assert "Carbon price" in text and "300" in text and "1 vote" in text and "1 votes" not in text
        assert "You have not voted" in text
        mine = phone.locator(".sim-proposal").first
        assert "You voted for this" in mine.inner_text()
        mine.get_by_role("button", name="Withdraw my vote").click()
        phone.locator(".sim-proposal").filter(has_text="0 votes").wait_for(timeout=WAIT_MS)
        assert "You have not voted" in phone.locator(".sim-proposal").first.inner_text()
        phone.locator(".sim-proposal").get_by_role("button", name="Vote for this").click()
        fac.locator(".sim-proposal").filter(has_text="1 vote").wait_for(timeout=WAIT_MS)
        fac.locator(".sim-proposal").get_by_role("button", name="Apply").click()
        for page in (fac, phone):  # both levers applied by one proposal
            page.locator(".sim-command").filter(has_text="policy.carbon_price.enabled=true").wait_for(timeout=WAIT_MS)
            assert "policy.carbon_price.price_usd_per_t_co2=300" in page.locator(".sim-command").inner_text()
        # a reload keeps the participant in the room
        phone.reload()
        in_room(phone, code)
        # the facilitator exports the debrief: the room's path with its votes, in the room's folder
        fac.get_by_role("button", name="Export the debrief").click()
        fac.locator(".sim-debrief-path").wait_for(timeout=WAIT_MS)
        files = list((results_dir / "rooms" / code).glob("debrief_*.html"))
        assert len(files) == 1
        text = files[0].read_text(encoding="utf-8")
        assert "Carbon price: Price in the start year" in text and "1 vote" in text and "Baseline" in text
    finally:
        fac_ctx.close()
        phone_ctx.close()


def test_facilitator_away_pauses_the_run_and_the_key_takes_the_room_back(browser, app_url):
    fac_ctx, part_ctx, other_ctx = (browser.new_context(viewport=v) for v in (LAPTOP, LAPTOP, PROJECTOR))
    try:
        fac = open_app(fac_ctx, app_url)
        code, link = open_room(fac)
        assert "key=" in fac.url  # the facilitator's own page carries the key: a reload keeps control
        part = part_ctx.new_page()
        part.goto(f"{app_url}/?room={code}")
        in_room(part, code)
        fac.reload()
        in_room(fac, code)
        assert fac.get_by_role("button", name="Step", exact=True).is_enabled()
        assert "You are the facilitator" in fac.locator(".sim-room").inner_text()
        fac.get_by_role("button", name="Play", exact=True).click()
        part.locator(".sim-step-counter").filter(has_text=re.compile(r"Step [1-9]")).wait_for(timeout=WAIT_MS)
        fac.close()  # the facilitator's tab is gone: the run pauses and the participant is told
        part.locator(".sim-facilitator-away").wait_for(timeout=WAIT_MS)
        stopped = part.locator(".sim-step-counter").inner_text()
        part.wait_for_timeout(1500)
        assert part.locator(".sim-step-counter").inner_text() == stopped
        other = other_ctx.new_page()  # the facilitator's link on another device
        other.goto(link)
        in_room(other, code)
        assert other.get_by_role("button", name="Play", exact=True).is_enabled()
        part.locator(".sim-facilitator-away").wait_for(state="detached", timeout=WAIT_MS)
        assert part.get_by_role("button", name="Play", exact=True).is_disabled()
    finally:
        for c in (fac_ctx, part_ctx, other_ctx):
            c.close()


def test_a_new_scenario_runs_its_own_firm_count(browser, app_url):
    ctx = browser.new_context(viewport=LAPTOP)
    try:
        page = open_app(ctx, app_url)
        assert page.get_by_label("Number of firms").input_value() == "3000"  # mx_cluster's own
        page.locator(".v-select", has=page.locator("label", has_text=re.compile(r"^Scenario$"))).click()
        page.get_by_role("option", name=re.compile("Bajío")).click()
        page.get_by_role("button", name="Apply and restart").click()
        page.get_by_text(re.compile(r"of 32,?174 firms")).wait_for(timeout=60_000)
        assert page.get_by_label("Number of firms").input_value() == "32174"
        # presenter view at 1366x768: charts across the page, drawn at 2.5x, smallest text >= 16 px
        page.locator(".sim-presenter-switch .v-input--selection-controls__ripple").click()
        page.locator(".sim-presenter").wait_for(timeout=WAIT_MS)
        page.wait_for_function("document.querySelector('img.sim-adoption').naturalWidth > 1000", timeout=WAIT_MS)
        for kind in ("emissions", "adoption", "spending"):
            natural, shown = page.locator(f"img.sim-{kind}").evaluate("e => [e.naturalWidth, e.getBoundingClientRect().width]")
            smallest_px = 6.5 / 72 * 200 * shown / natural  # 6.5 pt, the smallest text of a chart
            assert shown > 1000 and smallest_px >= 16, (kind, natural, shown)
        alt = page.locator("img.sim-spending").get_attribute("alt")
        assert re.search(r"\d+\.\d\d", alt), alt  # the chart's numbers, in words
        page.locator("img.sim-emissions").click()  # any chart enlarges
        page.locator("img.sim-enlarged-emissions").wait_for(timeout=WAIT_MS)
    finally:
        ctx.close()


def english_only_phrases() -> list[str]:
    """Every English catalogue text (its literal parts, placeholders removed) that differs from
    its Spanish text and is long enough to be unmistakably English."""
    out = []
    for key, en in TEXT["en"].items():
        if en == TEXT["es"][key]:
            continue
        for part in re.split(r"\{[^}]*\}", en):
            part = part.strip(" .,:;()·—-")
            if len(part) >= 8 and " " in part:
                out.append(part)
    return out


def test_a_spanish_browser_gets_a_spanish_page_with_no_english_left(browser, app_url):
    ctx = browser.new_context(viewport=PROJECTOR, locale="es-MX")  # Accept-Language: es-MX
    try:
        page = open_app(ctx, app_url)
        page.get_by_role("button", name="Paso", exact=True).wait_for(timeout=WAIT_MS)
        assert page.evaluate("document.documentElement.lang") == "es"
        page.get_by_role("button", name="Paso", exact=True).click()
        page.locator(".sim-step-counter").filter(has_text=re.compile(r"Paso 1 de")).wait_for(timeout=WAIT_MS)
        page.get_by_role("button", name=re.compile("Abrir una sala")).click()
        page.locator(".sim-room-code").wait_for(timeout=WAIT_MS)
        visible = page.locator("body").inner_text()
        for code in page.locator(".sim-code").all_inner_texts():  # command lines and links: not words
            visible = visible.replace(code, "")
        left = [p for p in english_only_phrases() if p in visible]
        assert left == [], f"English on the Spanish page: {left[:5]}"
        for word in ("Made with", "Solara", "configs/", "override", "mx_cluster", "incentive_package"):
            assert word not in visible, word
    finally:
        ctx.close()


def take_a_firm_with_a_choice(page) -> str:
    """The participant takes the first representative firm that has a measure it may choose;
    returns the role line."""
    page.get_by_label("Your name (shown to the room)").fill("Ana")
    for i in range(8):
        page.locator(".sim-role-firm").click()
        page.get_by_role("option").nth(i).click()
        page.locator(".sim-role-take").click()
        page.locator(".sim-role-you").wait_for(timeout=WAIT_MS)
        if page.locator(".sim-role-measure input:not([disabled])").count():
            return page.locator(".sim-role-you").inner_text()
        page.locator(".sim-role-release").click()
        page.locator(".sim-role-take").wait_for(timeout=WAIT_MS)
    raise AssertionError("no representative firm with a measure to choose")


def test_a_phone_participant_plays_a_firm_adopts_a_measure_and_the_models_table_shows_it(browser, app_url):
    fac_ctx = browser.new_context(viewport=LAPTOP)
    phone_ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    try:
        fac = open_app(fac_ctx, app_url)
        code, _ = open_room(fac)
        phone = phone_ctx.new_page()
        phone.goto(f"{app_url}/?room={code}")
        in_room(phone, code)
        you = take_a_firm_with_a_choice(phone)
        firm = re.search(r"You play firm (\d+)", you).group(1)
        assert no_horizontal_scroll(phone)
        fac.locator(".sim-role-row").filter(has_text=f"Ana: firm {firm}").wait_for(timeout=WAIT_MS)  # who plays what
        measure = phone.locator(".sim-role-measure").filter(has=phone.locator("input:not([disabled])")).first
        name = measure.locator("label").inner_text()
        measure.locator(".v-input--selection-controls__ripple").click()
        phone.get_by_role("button", name=re.compile(r"Adopt at the next step \(1\)")).click()
        phone.locator(".sim-role-pending").filter(has_text=name).wait_for(timeout=WAIT_MS)
        fac.get_by_role("button", name="Step", exact=True).click()
        phone.locator(".sim-role-decisions").filter(has_text=re.compile(r"Step 1: chose .* → adopted")).wait_for(timeout=WAIT_MS)
        row = phone.locator(".sim-role-table li").filter(has_text=name)  # the model's adoption table
        row.wait_for(timeout=WAIT_MS)
        assert "decided by the player" in row.inner_text() and "Jan" in row.inner_text()
        assert no_horizontal_scroll(phone)
    finally:
        fac_ctx.close()
        phone_ctx.close()


def test_the_government_roles_reallocation_changes_spending(browser, app_url):
    fac_ctx, gov_ctx = browser.new_context(viewport=LAPTOP), browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        fac = open_app(fac_ctx, app_url)
        code, _ = open_room(fac)
        gov = gov_ctx.new_page()
        gov.goto(f"{app_url}/?room={code}")
        in_room(gov, code)
        gov.locator(".sim-role-kind").click()
        gov.get_by_role("option", name="The government").click()
        gov.locator(".sim-role-take").click()
        gov.locator(".sim-budget-row").first.wait_for(timeout=WAIT_MS)
        for key, end in (("capex_subsidy", "Home"), ("workshops", "End")):
            slider = gov.locator(f".sim-share-{key}").get_by_role("slider")
            slider.focus()
            slider.press(end)
        gov.get_by_role("button", name="Allocate from the next step").click()

        def capex_budget(page) -> float:
            alt = page.locator("img.sim-spending").get_attribute("alt")
            return float(re.search(r"capex subsidy [\d.,]+ / ([\d.,]+)", alt).group(1).replace(",", ""))

        assert capex_budget(fac) == pytest.approx(2.0)  # the package's US$ 2 million
        fac.get_by_role("button", name="Step", exact=True).click()
        fac.wait_for_function("!/capex subsidy [\\d.,]+ \\/ 2\\.00/.test(document.querySelector('img.sim-spending').alt)",
                              timeout=WAIT_MS)
        assert capex_budget(fac) < 0.5  # only what it had spent: the rest went to the workshops
        assert re.search(r"workshops [\d.,]+ / [3-9]\.\d\d", fac.locator("img.sim-spending").get_attribute("alt"))
        gov.locator(".sim-role-decisions").filter(has_text="Step 1: new budgets").wait_for(timeout=WAIT_MS)
    finally:
        fac_ctx.close()
        gov_ctx.close()
