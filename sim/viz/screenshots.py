"""Screenshots of the app's main views for the README: ``python -m sim.viz.screenshots [docs]``.

Starts the app, drives Chromium and writes ``app_main.png`` (English, after three years),
``app_es.png`` (Spanish, firms coloured by sector), ``app_inspector.png`` (the firm
inspector), ``app_room.png`` (a participant in a workshop room with a proposal),
``app_phone.png`` (a participant on a 390x844 phone), ``app_projector.png`` (the presenter
view at 1366x768) and ``app_debrief.png`` (the room's exported debrief).

``python -m sim.viz.screenshots docs roles`` writes ``workshop_roles.png`` only: a phone
participant playing a firm after adopting a measure, next to the facilitator's list of who
plays what and the spending chart after the government player's reallocation.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

from .serve import AppServer, launch_chromium, open_app

VIEWPORT = {"width": 1600, "height": 1250}


def _steps(page, n: int, label: str = "Step") -> None:
    button = page.get_by_role("button", name=label, exact=True)
    for _ in range(n):
        before = page.locator(".sim-step-counter").inner_text()
        button.click()
        page.wait_for_function("([b]) => document.querySelector('.sim-step-counter').innerText !== b", arg=[before])


def main(out_dir: str = "docs") -> None:
    from playwright.sync_api import sync_playwright

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("SIM_APP_RESULTS_DIR", tempfile.mkdtemp(prefix="sim_app_shots_"))
    with AppServer() as url, sync_playwright() as p:
        browser = launch_chromium(p)
        ctx = browser.new_context(viewport=VIEWPORT)
        ctx.set_default_timeout(120_000)
        page = open_app(ctx, url)
        speed = page.get_by_role("slider", name=re.compile("Speed"))
        speed.focus()
        speed.press("End")
        page.get_by_role("button", name="Play", exact=True).click()
        page.locator(".sim-step-counter").filter(has_text=re.compile(r"\b(3[6-9]|[4-9]\d|\d{3})\s+of\s")).wait_for()
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_role("button", name="Largest emitter").click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(out / "app_main.png"))
        page.locator(".sim-inspector").screenshot(path=str(out / "app_inspector.png"))
        page.get_by_role("button", name="Español").click()
        page.get_by_role("button", name="Sector", exact=True).click()
        page.get_by_role("button", name="Paso", exact=True).wait_for()
        page.wait_for_timeout(1500)
        page.locator("h2").first.scroll_into_view_if_needed()
        page.screenshot(path=str(out / "app_es.png"))
        page.get_by_role("button", name="English").click()

        # a room: the facilitator (page) and a participant in another browser context
        page.get_by_role("button", name=re.compile("Open a room")).click()
        code = re.search(r"Room\s+(\w{5})", page.locator(".sim-room-code").inner_text()).group(1)
        part = open_app(browser.new_context(viewport=VIEWPORT), url)
        part.get_by_label("Room code").fill(code)
        part.get_by_role("button", name="Join", exact=True).click()
        part.locator(".sim-room-code").wait_for()
        levers = part.locator(".sim-levers")
        levers.locator(".v-input--checkbox").nth(5).click()
        part.get_by_role("button", name=re.compile(r"Propose \(1\)")).wait_for()  # the instrument is on
        slider = levers.get_by_role("slider", name=re.compile("Price in the start year"))
        slider.focus()
        for _ in range(10):
            slider.press("ArrowRight")
        part.get_by_role("button", name=re.compile(r"Propose \(2\)")).click()
        page.locator(".sim-proposal").first.wait_for()
        _steps(page, 2)
        part.wait_for_timeout(1500)
        part.locator("h2").first.scroll_into_view_if_needed()
        part.screenshot(path=str(out / "app_room.png"))

        # the same room on a phone, joined from the link the QR code holds
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
        phone.goto(f"{url}/?room={code}")
        phone.locator(".sim-room-code").wait_for()
        phone.wait_for_timeout(1500)
        phone.locator(".sim-proposal").first.scroll_into_view_if_needed()
        phone.screenshot(path=str(out / "app_phone.png"))

        # the facilitator's presenter view on a 1366x768 projector
        page.set_viewport_size({"width": 1366, "height": 768})
        page.locator(".sim-presenter-switch .v-input--selection-controls__ripple").click()
        page.locator(".sim-presenter").wait_for()
        page.locator(".sim-proposal").get_by_role("button", name="Apply").click()
        _steps(page, 12)
        page.wait_for_timeout(2000)
        page.locator("img.sim-emissions").scroll_into_view_if_needed()
        page.screenshot(path=str(out / "app_projector.png"))

        # the debrief the facilitator exports
        page.get_by_role("button", name="Export the debrief").click()
        written = page.locator(".sim-debrief-path").inner_text()
        path = re.search(r"(/\S+\.html)", written).group(1)
        doc = browser.new_context(viewport={"width": 1000, "height": 1100}).new_page()
        doc.goto(Path(path).as_uri())
        doc.screenshot(path=str(out / "app_debrief.png"))
        browser.close()
    for f in ("app_main", "app_inspector", "app_es", "app_room", "app_phone", "app_projector", "app_debrief"):
        print(out / f"{f}.png")


def roles(out_dir: str = "docs") -> Path:
    """``workshop_roles.png``: roles in a room (module docstring)."""
    from playwright.sync_api import sync_playwright

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    shots = Path(tempfile.mkdtemp(prefix="sim_roles_shots_"))
    with AppServer() as url, sync_playwright() as p:
        browser = launch_chromium(p)
        fac = open_app(browser.new_context(viewport={"width": 1366, "height": 900}), url)
        fac.get_by_role("button", name=re.compile("Open a room")).click()
        code = re.search(r"Room\s+(\w{5})", fac.locator(".sim-room-code").inner_text()).group(1)
        _steps(fac, 14)  # a year on: firms know more measures

        def join():
            page = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                       device_scale_factor=2).new_page()
            page.goto(f"{url}/?room={code}")
            page.locator(".sim-roles").wait_for()
            return page

        phone = join()
        phone.get_by_label("Your name (shown to the room)").fill("Ana")
        for i in range(12):  # the first representative firm with a measure to choose
            phone.get_by_label("Your name (shown to the room)").fill("Ana")
            phone.locator(".sim-role-firm").click()
            phone.get_by_role("option").nth(i).click()
            phone.locator(".sim-role-take").click()
            phone.locator(".sim-role-you").wait_for()
            if phone.locator(".sim-role-measure input:not([disabled])").count():
                break
            phone.locator(".sim-role-release").click()
            phone.locator(".sim-role-take").wait_for()
        measure = phone.locator(".sim-role-measure").filter(has=phone.locator("input:not([disabled])")).first
        measure.locator(".v-input--selection-controls__ripple").click()
        phone.get_by_role("button", name=re.compile(r"Adopt at the next step \(1\)")).click()
        phone.locator(".sim-role-pending").wait_for()
        _steps(fac, 1)
        phone.locator(".sim-role-decisions").wait_for()
        phone.locator(".sim-role-decisions").filter(has_text="→ adopted").wait_for()
        phone.locator(".sim-role-table").wait_for()
        gov = join()
        gov.get_by_label("Your name (shown to the room)").fill("Luis")
        gov.locator(".sim-role-kind").click()
        gov.get_by_role("option", name="The government").click()
        gov.locator(".sim-role-take").click()
        for key, end in (("capex_subsidy", "Home"), ("workshops", "End")):
            slider = gov.locator(f".sim-share-{key}").get_by_role("slider")
            slider.focus()
            slider.press(end)
        gov.get_by_role("button", name="Allocate from the next step").click()
        _steps(fac, 1)
        gov.locator(".sim-role-decisions").filter(has_text="new budgets").wait_for()
        phone.wait_for_timeout(1500)
        phone.evaluate("document.querySelector('.sim-roles').scrollIntoView({block: 'start'})")
        phone.wait_for_timeout(500)
        phone.screenshot(path=str(shots / "phone.png"))  # what the phone shows: the role, the measures
        phone.evaluate("document.querySelector('.sim-role-release').scrollIntoView({block: 'end'})")
        phone.wait_for_timeout(500)
        phone.screenshot(path=str(shots / "phone_end.png"))  # further down: the model's table, the decisions
        fac.wait_for_timeout(1500)
        fac.locator(".sim-roles").screenshot(path=str(shots / "fac.png"))
        fac.locator("img.sim-spending").screenshot(path=str(shots / "spending.png"))
        browser.close()
    return _side_by_side([shots / "phone.png", shots / "phone_end.png"], [shots / "fac.png", shots / "spending.png"],
                         out / "workshop_roles.png")


def _side_by_side(phones: list, right: list, path: Path) -> Path:
    """Phone screens side by side, then the ``right`` pictures stacked (enlarged if small)."""
    from PIL import Image

    phones = [Image.open(p) for p in phones]
    right = [Image.open(p) for p in right]
    right = [r.resize((int(r.width * 1.6), int(r.height * 1.6))) if r.width < 700 else r for r in right]
    w = max(r.width for r in right)
    x = 20 + sum(p.width + 20 for p in phones)
    canvas = Image.new("RGB", (x + w + 20, max(max(p.height for p in phones), sum(r.height + 20 for r in right)) + 40),
                        (235, 235, 235))
    for i, ph in enumerate(phones):
        canvas.paste(ph, (20 + i * (ph.width + 20), 20))
    y = 20
    for r in right:
        canvas.paste(r, (x, y))
        y += r.height + 20
    canvas.save(path)
    print(path)
    return path


if __name__ == "__main__":
    if sys.argv[2:3] == ["roles"]:
        roles(sys.argv[1])
    else:
        main(*sys.argv[1:])
