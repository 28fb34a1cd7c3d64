"""The returns page with a re-filed return, in headless Chromium: axe-core finds no
serious or critical violation and the page fits a phone 390 px wide (the versions
table scrolls in place). The demo server of ``test_board_browser`` (its own copy for
this module), whose last filed BCF return the admin files again with a reason.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e import test_board_browser as tb
from tests.e2e.test_board_browser import (
    OVERFLOW,
    PHONE_WIDTH,
    By,
    Server,
    WebDriver,
    axe_check,
    shoot,
    sign_in,
    wait_for,
)

pytestmark = tb.pytestmark


def _again(fixture: object, name: str) -> object:
    """``test_board_browser``'s module fixture, this module's own instance."""
    return pytest.fixture(fixture.__wrapped__, scope="module", name=name)  # type: ignore[attr-defined]


_server = _again(tb.server, "server")
_downloads = _again(tb.downloads, "downloads")
_browser = _again(tb.browser, "browser")
_axe_source = _again(tb.axe_source, "axe_source")

REASON = "Scheme activity corrected after filing; filed again for the HWB."


@pytest.fixture(scope="module")
def refiled(server: Server) -> Server:
    quarter = server.return_quarter
    r = httpx.post(
        f"{server.url}/v1/pools/mid-notts-bcf/returns/{quarter}/refile",
        headers={"Authorization": f"Bearer {server.admin_secret}"},
        json={"reason": REASON},
        timeout=120,
    )
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2
    return server


def test_the_returns_page_with_two_versions_passes_axe_and_fits_a_phone(
    refiled: Server, browser: WebDriver, axe_source: str
) -> None:
    sign_in(browser, refiled)
    browser.get(f"{refiled.url}/board/pools/mid-notts-bcf/returns")
    wait_for(browser, "#return-versions")
    quarter = refiled.return_quarter
    rows = browser.find_elements(By.CSS_SELECTOR, f'#return-versions tr[data-quarter="{quarter}"]')
    assert [r.get_attribute("data-version") for r in rows] == ["2", "1"]
    assert REASON in rows[0].text and "Superseded" in rows[1].text
    shoot(browser, "returns-versions")
    axe_check(browser, axe_source, "returns-versions")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        browser.get(f"{refiled.url}/board/pools/mid-notts-bcf/returns")
        wait_for(browser, "#return-versions")
        found = browser.execute_script(OVERFLOW)
        assert found["viewport"] == PHONE_WIDTH
        assert found["page"] <= PHONE_WIDTH and found["bad"] == [], found
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
