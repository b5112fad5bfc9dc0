"""Speed and load figures of the live app (printed, not asserted).

    .venv/bin/python benchmarks/bench_app.py            # everything (~3-4 min)
    .venv/bin/python benchmarks/bench_app.py --only server|play|large|load|workshop [--sessions 20]
    .venv/bin/python benchmarks/bench_app.py --only workshop --participants 30 --solo 10

1. server: step + redraw of every view, in process (no browser), 1,000 firms and the
   32,174-firm Bajio scenario (``bajio_cpi``; ``mx_cluster`` with n_firms=32174 if absent).
2. play:   in Chromium, play mode with 1,000 firms at the highest speed: simulated steps per
   second seen by the page and distinct step counts the page displayed per second.
3. large:  in Chromium, the 32,174-firm scenario: click Step -> counter and charts updated.
4. load:   N concurrent Chromium sessions against one app process (default 20): 5 of them
   share a room, the others run their own models; per-session step latency, and checks
   that room members end on the facilitator's step and solo sessions on their own.
5. workshop: one room of a facilitator and P participants (default 30) who join by the
   room's link, plus S solo sessions (default 10), on one app process: for each of the
   facilitator's steps, the time until each participant's page shows it (per session: mean,
   max), the solo sessions' own step latency, and the app server's CPU.
Targets (issue 17): every page on the facilitator's step within 2 s of a Step.
Targets (issue 5): play >= 5 steps/s with 1,000 displayed firms; a step and redraw <= 1 s
with 32,174 firms; >= 20 concurrent sessions keep working and stay isolated or in their room.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from pathlib import Path


from sim.viz.levers import Settings, scenarios
from sim.viz.serve import CHROMIUM, CHROMIUM_ARGS, AppServer, launch_chromium, open_app
from sim.viz.state import Simulation

VIEWS = ("network", "emissions", "adoption", "spending")
COUNTER = re.compile(r"(\d+)\s+(?:of|de)\s+\d+")


def large_settings() -> Settings:
    if "bajio_cpi" in scenarios():
        return Settings(scenario="bajio_cpi")
    return Settings(scenario="mx_cluster", n_firms=32174)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


# --------------------------------------------------------------------------------- server
def bench_server() -> None:
    print("== server: step + redraw of all views, in process ==")
    for label, settings in (("1,000 firms (mx_cluster)", Settings(n_firms=1000)), ("32,174 firms", large_settings())):
        t0 = time.perf_counter()
        sim = Simulation(settings)
        build = time.perf_counter() - t0
        sim.step(12)
        t0 = time.perf_counter()
        for v in VIEWS:
            sim.render(v, "en")
        first = time.perf_counter() - t0
        times = []
        for _ in range(24):
            t0 = time.perf_counter()
            sim.step()
            for v in VIEWS:
                sim.render(v, "en")
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sim.apply_levers({"policy.capex_subsidy.subsidy_share": 0.5})
        relever = time.perf_counter() - t0
        print(f"{label:26s} n={sim.model.n_firms:6d}  build {build:5.2f} s  first draw {first:5.2f} s  "
              f"step+redraw mean {statistics.mean(times) * 1e3:6.1f} ms  p95 {pct(times, 0.95) * 1e3:6.1f} ms  "
              f"-> {1 / statistics.mean(times):5.1f} frames/s  lever change at month {sim.steps_done} {relever:5.2f} s")


# --------------------------------------------------------------------------------- browser
def _counter(page) -> int:
    return int(COUNTER.search(page.locator(".sim-step-counter").inner_text()).group(1))


def _restart(page, scenario: str | None, n_firms: int | None) -> None:
    if scenario is not None:
        page.get_by_role("button", name=re.compile("^Scenario")).click()
        from sim.viz.i18n import choice

        label = choice("en", "scenario", scenario)[0]  # the picker shows scenarios by name
        page.get_by_role("option", name=re.compile(re.escape(label))).first.click()
    if n_firms is not None:
        box = page.get_by_label("Number of firms")
        box.fill(str(n_firms))
        box.press("Enter")
    page.get_by_role("button", name="Apply and restart").click()
    want = f"scenario={scenario}" if scenario else f"n_firms={n_firms}"
    page.locator(".sim-command").filter(has_text=want).wait_for(timeout=120_000)


def bench_play(url: str, seconds: float = 8.0) -> None:
    from playwright.sync_api import sync_playwright

    print("== play mode in Chromium, 1,000 firms, highest speed ==")
    with sync_playwright() as p:
        b = launch_chromium(p)
        page = open_app(b.new_context(viewport={"width": 1500, "height": 1100}), url)
        _restart(page, None, 1000)
        speed = page.get_by_role("slider", name=re.compile("Speed"))
        speed.focus()
        speed.press("End")
        page.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_timeout(1000)
        seen, t0 = [], time.perf_counter()
        start = _counter(page)
        while time.perf_counter() - t0 < seconds:
            seen.append(_counter(page))
            page.wait_for_timeout(40)
        elapsed = time.perf_counter() - t0
        end = _counter(page)
        pause = page.get_by_role("button", name="Pause", exact=True)
        if pause.count():
            pause.click()
        print(f"steps per second seen by the page: {(end - start) / elapsed:5.1f}   "
              f"distinct step counts displayed per second: {len(set(seen)) / elapsed:5.1f}   "
              f"({end - start} steps in {elapsed:.1f} s)")
        b.close()


def bench_large(url: str, steps: int = 8) -> None:
    from playwright.sync_api import sync_playwright

    s = large_settings()
    print(f"== step + redraw in Chromium, {s.scenario}" + (f" n_firms={s.n_firms}" if s.n_firms else "") + " ==")
    with sync_playwright() as p:
        b = launch_chromium(p)
        page = open_app(b.new_context(viewport={"width": 1500, "height": 1100}), url)
        t0 = time.perf_counter()
        _restart(page, s.scenario if s.n_firms is None else None, s.n_firms)
        print(f"switch to the scenario (build + first draw): {time.perf_counter() - t0:5.2f} s")
        times = []
        for _ in range(steps):
            n = _counter(page)
            src = page.locator("img.sim-emissions").get_attribute("src")
            t0 = time.perf_counter()
            page.get_by_role("button", name="Step", exact=True).click()
            page.locator(".sim-step-counter").filter(has_text=re.compile(rf"\b{n + 1}\s+of\s")).wait_for()
            page.wait_for_function("([s]) => document.querySelector('img.sim-emissions').src !== s", arg=[src])
            times.append(time.perf_counter() - t0)
        print(f"click -> counter and charts updated: mean {statistics.mean(times):5.2f} s  max {max(times):5.2f} s  "
              f"(n={len(times)})")
        b.close()


async def _session(i: int, browser, url: str, role: str, room: dict, n_steps: int, out: list) -> None:
    await asyncio.sleep(0.5 * i)  # people arrive over a few seconds, as in a workshop
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(180_000)
    page = await ctx.new_page()
    t0 = time.perf_counter()
    await page.goto(url, timeout=300_000)
    await page.locator(".sim-step-counter").wait_for(timeout=180_000)
    load_s = time.perf_counter() - t0
    lat = []

    async def counter() -> int:
        return int(COUNTER.search(await page.locator(".sim-step-counter").inner_text()).group(1))

    async def step_once():
        n = await counter()
        t = time.perf_counter()
        await page.get_by_role("button", name="Step", exact=True).click()
        await page.locator(".sim-step-counter").filter(has_text=re.compile(rf"\b{n + 1}\s+of\s")).wait_for(timeout=120_000)
        lat.append(time.perf_counter() - t)

    if role == "facilitator":
        await page.get_by_role("button", name=re.compile("Open a room")).click()
        text = await page.locator(".sim-room-code").inner_text(timeout=60_000)
        room["code"] = re.search(r"Room\s+(\w{5})", text).group(1)
        room["ready"].set()
        await room["joined"].wait()
        for _ in range(n_steps):
            await step_once()
        room["done"].set()
        final = await counter()
    elif role == "participant":
        await room["ready"].wait()
        await page.get_by_label("Room code").fill(room["code"])
        await page.get_by_role("button", name="Join", exact=True).click()
        await page.locator(".sim-room-code").wait_for(timeout=60_000)
        room["count"] += 1
        if room["count"] == room["n_participants"]:
            room["joined"].set()
        await room["done"].wait()
        t = time.perf_counter()
        await page.locator(".sim-step-counter").filter(has_text=re.compile(rf"\b{n_steps}\s+of\s")).wait_for(timeout=60_000)
        lat.append(time.perf_counter() - t)  # time to see the facilitator's last step
        final = await counter()
    else:
        for _ in range(n_steps):
            await step_once()
        final = await counter()
    out.append(dict(session=i, role=role, load_s=load_s, steps=n_steps, final=final, ok=final == n_steps, lat=lat))
    await ctx.close()


async def _load(url: str, n_sessions: int, room_size: int) -> list:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        room = dict(ready=asyncio.Event(), joined=asyncio.Event(), done=asyncio.Event(), count=0,
                    n_participants=room_size - 1)
        out: list = []
        tasks = []
        for i in range(n_sessions):
            if i == 0:
                role, n = "facilitator", 6
            elif i < room_size:
                role, n = "participant", 6
            else:
                role, n = "solo", 4 + i % 4  # different counts: a leak between sessions would show
            tasks.append(_session(i, browser, url, role, room, n, out))
        await asyncio.gather(*tasks)
        await browser.close()
    return sorted(out, key=lambda r: r["session"])


async def _workshop_page(i, browser, url, role, shared, n_steps, out):
    await asyncio.sleep(0.3 * i)
    ctx = await browser.new_context(viewport={"width": 390, "height": 844} if role == "participant"
                                    else {"width": 1366, "height": 768})
    ctx.set_default_timeout(300_000)
    page = await ctx.new_page()
    t0 = time.perf_counter()
    lat: list[float] = []
    if role == "participant":
        await shared["ready"].wait()
        await page.goto(f"{url}/?room={shared['code']}", timeout=300_000)
        await page.locator(".sim-room-code").wait_for()
        load_s = time.perf_counter() - t0
        shared["count"] += 1
        if shared["count"] == shared["n_participants"]:
            shared["joined"].set()
        for k in range(1, n_steps + 1):
            await page.locator(".sim-step-counter").filter(has_text=re.compile(rf"\b{k}\s+of\s")).wait_for()
            lat.append(time.perf_counter() - shared["clicked"][k])
    else:
        await page.goto(url, timeout=300_000)
        await page.locator(".sim-step-counter").wait_for()
        load_s = time.perf_counter() - t0
        if role == "facilitator":
            await page.get_by_role("button", name=re.compile("Open a room")).click()
            text = await page.locator(".sim-room-code").inner_text()
            shared["code"] = re.search(r"Room\s+(\w{5})", text).group(1)
            shared["ready"].set()
            await shared["joined"].wait()
        for k in range(1, n_steps + 1):
            if role == "facilitator":
                await asyncio.sleep(2.0)  # a facilitator steps every few seconds, not in a burst
                shared["clicked"][k] = time.perf_counter()
            t = time.perf_counter()
            await page.get_by_role("button", name="Step", exact=True).click()
            await page.locator(".sim-step-counter").filter(has_text=re.compile(rf"\b{k}\s+of\s")).wait_for()
            lat.append(time.perf_counter() - t)
    final = int(COUNTER.search(await page.locator(".sim-step-counter").inner_text()).group(1))
    out.append(dict(session=i, role=role, load_s=load_s, final=final, ok=final == n_steps, lat=lat))
    await ctx.close()


#: ``--no-images``: the pages do not decode or paint images (the server still draws and sends
#: every chart): 41 headless pages on the server's own two cores otherwise measure the pages'
#: rendering, which in a workshop happens on each participant's phone
NO_IMAGES = ["--blink-settings=imagesEnabled=false"]


async def _workshop(url: str, participants: int, solo: int, n_steps: int, no_images: bool = False) -> list:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + (NO_IMAGES if no_images else []))
        shared = dict(ready=asyncio.Event(), joined=asyncio.Event(), count=0, n_participants=participants,
                      clicked={}, code=None)
        roles = ["facilitator"] + ["participant"] * participants + ["solo"] * solo
        out: list = []
        await asyncio.gather(*(_workshop_page(i, browser, url, r, shared, n_steps, out) for i, r in enumerate(roles)))
        await browser.close()
    return sorted(out, key=lambda r: r["session"])


def bench_workshop(url: str, participants: int, solo: int, n_steps: int = 3, server_pid: int | None = None,
                   no_images: bool = False) -> None:
    print(f"== workshop: 1 facilitator + {participants} participants in one room (phones, joined by link) "
          f"+ {solo} solo sessions, one app process; {n_steps} steps"
          + ("; pages do not render images (the server still draws and sends them)" if no_images else "") + " ==")
    t0 = time.perf_counter()
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    load0 = os.getloadavg()[0]
    rows = asyncio.run(_workshop(url, participants, solo, n_steps, no_images))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(server_pid) - cpu0 if server_pid else float("nan")
    print(f"{'session':>7} {'role':>11} {'load s':>7} {'final':>5} {'ok':>3} {'mean ms':>8} {'max ms':>7}")
    for r in rows:
        lat = r["lat"] or [float("nan")]
        print(f"{r['session']:7d} {r['role']:>11} {r['load_s']:7.1f} {r['final']:5d} {'yes' if r['ok'] else 'NO':>3} "
              f"{statistics.mean(lat) * 1e3:8.0f} {max(lat) * 1e3:7.0f}")
    seen = [x for r in rows if r["role"] == "participant" for x in r["lat"]]
    within = sum(x <= 2.0 for x in seen)
    print(f"participants' pages on the facilitator's step: median {statistics.median(seen) * 1e3:.0f} ms, "
          f"p95 {pct(seen, 0.95) * 1e3:.0f} ms, max {max(seen) * 1e3:.0f} ms; within 2 s: {within}/{len(seen)}")
    print(f"all sessions ended on their expected step: {all(r['ok'] for r in rows)}   wall {wall:.0f} s   "
          f"load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    print(f"app server process: {cpu:.0f} s of CPU in {wall:.0f} s ({cpu / wall:.0%} of one core; "
          "the Chromium pages on the same cores took the rest)")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_load(url: str, n_sessions: int = 20, room_size: int = 5, server_pid: int | None = None) -> None:
    print(f"== load: {n_sessions} concurrent Chromium sessions on one app process "
          f"({room_size} in one room, {n_sessions - room_size} on their own models) ==")
    t0 = time.perf_counter()
    cpu0 = cpu_seconds(server_pid) if server_pid else 0.0
    rows = asyncio.run(_load(url, n_sessions, room_size))
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(server_pid) - cpu0 if server_pid else float("nan")
    print(f"{'session':>7} {'role':>11} {'load s':>7} {'steps':>5} {'final':>5} {'ok':>3} "
          f"{'mean ms':>8} {'p95 ms':>7} {'max ms':>7}")
    all_lat = []
    for r in rows:
        lat = r["lat"] or [float("nan")]
        all_lat += r["lat"]
        print(f"{r['session']:7d} {r['role']:>11} {r['load_s']:7.1f} {r['steps']:5d} {r['final']:5d} "
              f"{'yes' if r['ok'] else 'NO':>3} {statistics.mean(lat) * 1e3:8.0f} {pct(lat, 0.95) * 1e3:7.0f} "
              f"{max(lat) * 1e3:7.0f}")
    print(f"all sessions ended on their expected step: {all(r['ok'] for r in rows)}   "
          f"step latency over all sessions: median {statistics.median(all_lat) * 1e3:.0f} ms, "
          f"p95 {pct(all_lat, 0.95) * 1e3:.0f} ms   wall {wall:.0f} s")
    print(f"app server process: {cpu:.0f} s of CPU in {wall:.0f} s ({cpu / wall:.0%} of one core; "
          "the Chromium tabs on the same cores took the rest)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=["server", "play", "large", "load", "workshop"])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--participants", type=int, default=30, help="workshop: participants in the room")
    ap.add_argument("--solo", type=int, default=10, help="workshop: solo sessions alongside the room")
    ap.add_argument("--steps", type=int, default=3, help="workshop: the facilitator's steps")
    ap.add_argument("--no-images", action="store_true",
                    help="workshop: pages do not render images (the browsers share the server's cores; phones would not)")
    ap.add_argument("--server-log", default=None, help="write the app server's output to this file")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start "
          "(other work on the machine slows every figure below)")
    if args.only in (None, "server"):
        bench_server()
    if args.only == "server":
        return
    server = AppServer(log_path=args.server_log)
    with server as url:
        if args.only in (None, "play"):
            bench_play(url)
        if args.only in (None, "large"):
            bench_large(url)
        if args.only in (None, "load"):
            bench_load(url, args.sessions, server_pid=server.proc.pid)
        if args.only in (None, "workshop"):
            bench_workshop(url, args.participants, args.solo, args.steps, server_pid=server.proc.pid,
                           no_images=args.no_images)


if __name__ == "__main__":
    main()
