"""The live app in a real browser: the app server runs in a subprocess and Debian's Chromium
is driven through Playwright (one server and one browser for the module)."""
from __future__ import annotations

import re
import shutil

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

from sim.viz.serve import CHROMIUM, LOOPBACK_PREFIXES, AppServer, launch_chromium, open_app  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
if shutil.which(CHROMIUM) is None:
    pytestmark.append(pytest.mark.skip(reason=f"{CHROMIUM} missing: `make sysdeps` installs Debian's chromium"))

VIEWPORT = {"width": 1500, "height": 1100}
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    log = tmp_path_factory.mktemp("app") / "server.log"
    with AppServer(log_path=str(log)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(app_url):
    with playwright_api.sync_playwright() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport=VIEWPORT)
    yield ctx
    ctx.close()


def step_counter(page) -> int:
    m = re.search(r"(\d+)\s+(?:of|de)\s+\d+", page.locator(".sim-step-counter").inner_text())
    return int(m.group(1))


def wait_step(page, n: int) -> None:
    page.locator(".sim-step-counter").filter(has_text=re.compile(rf"\b{n}\s+(of|de)\s")).wait_for(timeout=WAIT_MS)


def click_steps(page, n: int, label: str = "Step") -> None:
    start = step_counter(page)
    button = page.get_by_role("button", name=label, exact=True)
    for i in range(n):
        button.click()
        wait_step(page, start + i + 1)


def kpi_emissions_kt(page) -> float:
    text = page.locator(".sim-kpis").inner_text()
    return float(re.search(r"([\d,]+\.\d)\s*kt", text).group(1).replace(",", ""))


def image(page, cls: str) -> bytes:
    return page.locator(f"img.{cls}").screenshot()


def test_page_renders_network_and_charts_offline(context, app_url):
    outside = []
    context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(LOOPBACK_PREFIXES) else None)
    page = open_app(context, app_url)
    for cls in ("sim-network", "sim-emissions", "sim-adoption", "sim-spending"):
        img = page.locator(f"img.{cls}")
        img.wait_for(timeout=WAIT_MS)
        assert img.evaluate("e => e.complete && e.naturalWidth") > 300, cls
    assert step_counter(page) == 0
    assert page.get_by_text("Firm network").is_visible()
    assert outside == [], f"the page loaded external URLs: {outside[:5]}"


def test_step_advances_the_counter_and_changes_the_charts(context, app_url):
    page = open_app(context, app_url)
    before = {c: image(page, c) for c in ("sim-emissions", "sim-adoption", "sim-network")}
    click_steps(page, 3)
    assert step_counter(page) == 3
    page.wait_for_timeout(300)
    after = {c: image(page, c) for c in before}
    assert after["sim-emissions"] != before["sim-emissions"]
    assert after["sim-adoption"] != before["sim-adoption"]


def test_a_lever_change_changes_the_next_steps(context, app_url):
    page = open_app(context, app_url)
    click_steps(page, 6)
    baseline_kt = kpi_emissions_kt(page)
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_step(page, 0)
    click_steps(page, 3)
    levers = page.locator(".sim-levers")
    levers.locator(".v-input--checkbox").nth(5).click()  # carbon price: on
    slider = levers.get_by_role("slider", name=re.compile("Price in the start year"))
    # the page re-rendered with the instrument on (its sliders are disabled while it is off)
    page.get_by_role("button", name=re.compile(r"Apply levers \(1\)")).wait_for(timeout=WAIT_MS)
    slider.focus()
    slider.press("End")  # the highest price on the slider
    page.get_by_role("button", name=re.compile(r"Apply levers \(2\)")).click()
    page.locator(".sim-command").filter(has_text="policy.carbon_price.enabled=true").wait_for(timeout=WAIT_MS)
    assert "policy.carbon_price.price_usd_per_t_co2=300" in page.locator(".sim-command").inner_text()
    assert step_counter(page) == 3  # the run is re-simulated up to the current month
    click_steps(page, 3)
    assert kpi_emissions_kt(page) < baseline_kt


def test_language_switch_changes_labels(context, app_url):
    page = open_app(context, app_url)
    chart_en = image(page, "sim-emissions")
    page.get_by_role("button", name="Español").click()
    page.get_by_role("button", name="Paso", exact=True).wait_for(timeout=WAIT_MS)
    assert page.get_by_text("Red de empresas").is_visible()
    assert "Paso 0 de" in page.locator(".sim-step-counter").inner_text()
    assert page.get_by_role("button", name="Step", exact=True).count() == 0
    page.wait_for_timeout(300)
    assert image(page, "sim-emissions") != chart_en  # chart titles and axes translated too
    page.get_by_role("button", name="English").click()
    page.get_by_role("button", name="Step", exact=True).wait_for(timeout=WAIT_MS)


def test_two_sessions_in_a_room_see_the_same_step(browser, app_url):
    fac_ctx, part_ctx = browser.new_context(viewport=VIEWPORT), browser.new_context(viewport=VIEWPORT)
    try:
        fac, part = open_app(fac_ctx, app_url), open_app(part_ctx, app_url)
        click_steps(part, 1)  # the participant's own model, before joining
        fac.get_by_role("button", name=re.compile("Open a room")).click()
        code = re.search(r"Room\s+([A-Z0-9]{5})", fac.locator(".sim-room-code").inner_text(timeout=WAIT_MS)).group(1)
        part.get_by_label("Room code").fill(code.lower())
        part.get_by_role("button", name="Join", exact=True).click()
        part.locator(".sim-room-code").filter(has_text=code).wait_for(timeout=WAIT_MS)
        wait_step(part, 0)  # now showing the room's model
        assert part.get_by_role("button", name="Step", exact=True).is_disabled()
        click_steps(fac, 2)
        wait_step(part, 2)
        # a participant proposes a lever change; the facilitator applies it for everyone
        levers = part.locator(".sim-levers")
        levers.locator(".v-input--checkbox").nth(5).click()
        part.get_by_role("button", name=re.compile(r"Propose \(1\)")).click()
        fac.locator(".sim-proposal").first.wait_for(timeout=WAIT_MS)
        fac.locator(".sim-proposal").get_by_role("button", name="Apply").click()
        for page in (fac, part):
            page.locator(".sim-command").filter(has_text="policy.carbon_price.enabled=true").wait_for(timeout=WAIT_MS)
        assert step_counter(part) == step_counter(fac) == 2
        # closing the room sends the participant back to their own model (stepped once before)
        fac.get_by_role("button", name="Close room").click()
        part.get_by_text("The facilitator closed the room").wait_for(timeout=WAIT_MS)
        wait_step(part, 1)
        assert not part.get_by_role("button", name="Step", exact=True).is_disabled()
    finally:
        fac_ctx.close()
        part_ctx.close()


def test_two_sessions_outside_a_room_do_not_affect_each_other(browser, app_url):
    a_ctx, b_ctx = browser.new_context(viewport=VIEWPORT), browser.new_context(viewport=VIEWPORT)
    try:
        a, b = open_app(a_ctx, app_url), open_app(b_ctx, app_url)
        click_steps(a, 3)
        b.wait_for_timeout(500)
        assert step_counter(b) == 0
        click_steps(b, 1)
        a.wait_for_timeout(500)
        assert step_counter(a) == 3 and step_counter(b) == 1
    finally:
        a_ctx.close()
        b_ctx.close()


def test_clicking_a_firm_in_the_network_opens_it_in_the_inspector(context, app_url):
    page = open_app(context, app_url)
    img = page.locator("img.sim-network")
    box = img.bounding_box()
    firm_id = page.locator(".sim-inspector").get_by_label("Firm id")
    assert firm_id.input_value() == "0"
    chosen = "0"
    for fy in (0.3, 0.25, 0.35, 0.45, 0.2, 0.8):
        for fx in (0.5, 0.45, 0.55, 0.4, 0.3, 0.6):
            img.click(position={"x": box["width"] * fx, "y": box["height"] * fy})
            page.wait_for_timeout(300)
            chosen = firm_id.input_value()
            if chosen != "0":
                break
        if chosen != "0":
            break
    assert chosen != "0", "no click on the network selected a firm"
    page.locator(".sim-inspector td").filter(has_text=re.compile(rf"^\s*{chosen}\s*$")).first.wait_for(timeout=WAIT_MS)

