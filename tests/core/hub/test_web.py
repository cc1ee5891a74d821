"""The hub's web pages in a real browser: Debian's Chromium driven by Playwright.

Log in, see the school's agent online, start an extract, watch it complete against
the SIMS stand-in through a real agent process, open its errors and filter them; a
user without ``import-data`` is not offered Start Extract. (Playwright's own browser
download is not used: ``apt-get install -y chromium`` provides /usr/bin/chromium.)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from misbridge.sample import sample_school
from misbridge_sims.simulator import SimsSimulator
from tests.core.hub.live import AgentProcess, HubProcess, wait_for

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a long web password"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but Chromium is missing: apt-get install -y chromium")
        pytest.skip("Chromium is not installed: apt-get install -y chromium; set CI to fail")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def _log_in(browser: Any, url: str, name: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(f"{url}/")
    assert page.url.endswith("/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def test_log_in_start_an_extract_watch_it_complete_and_open_its_errors(
    tmp_path: Path, browser: Any
) -> None:
    hub = HubProcess(tmp_path, f"sqlite:///{tmp_path / 'hub.db'}")
    agent = AgentProcess(tmp_path)
    hub.start()
    with SimsSimulator(sample_school(seed=7, students=60, staff=10)) as sims:
        try:
            school = hub.school("Rowan Primary School")
            client, _ = hub.integrator(hub.user("dm", "import-data", password=PASSWORD))
            client.close()
            hub.user("watcher", "view", password=PASSWORD)
            agent.activate(
                hub.activation_code(school), hub.url, "--setting", f"reporter={sims.reporter}"
            )
            agent.store_credentials("sims", sims.source().credentials)
            agent.start()

            viewer = _log_in(browser, hub.url, "watcher")
            assert "Rowan Primary School" in viewer.inner_text("#schools")
            assert viewer.locator("text=Start Extract").count() == 0

            page = _log_in(browser, hub.url, "dm")
            row = page.locator(f"tr[data-school='{school}']")

            def online() -> bool:
                page.reload()
                return "online" in row.inner_text()

            wait_for(online, 30, every=0.5)
            row.locator("button", has_text="Start Extract").click()
            page.wait_for_url("**/extracts/req_*")
            page.wait_for_selector("#state.ready", timeout=120_000)
            page.screenshot(path=str(tmp_path / "run.png"), full_page=True)

            rows = page.locator("#errors tbody tr")
            total = rows.count()
            assert total > 0
            first_code = rows.first.get_attribute("data-code")
            page.select_option("#f-code", first_code)
            shown = int(page.inner_text("#shown"))
            assert 0 < shown <= total
            assert page.locator("#errors tbody tr:not([hidden])").count() == shown
            page.fill("#q", "no record matches this text")
            assert page.inner_text("#shown") == "0"

            page.click("text=Rowan Primary School")
            page.wait_for_selector("#runs")
            assert "ready" in page.inner_text("#runs")
        finally:
            agent.stop()
            hub.stop()
    assert (tmp_path / "run.png").exists()
