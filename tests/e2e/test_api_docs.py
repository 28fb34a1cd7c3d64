"""``/docs`` works without internet: Swagger UI's assets come from the app itself.

The first tests read the page over HTTP (every asset it names is the app's own and
is served). The last opens it in headless Chromium with every host but the loopback
made unresolvable, and waits for the operations to render (skipped, saying why,
without Chromium and its driver)."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from api.app import create_app
from ledger.settings import Settings
from ledger.store.engine import make_engine

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
)
CHROMEDRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
)
REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(Settings(scheduler=False), engine=engine)
    with TestClient(app) as c:
        yield c


def test_docs_name_only_the_apps_own_assets(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    found = [a or b for a, b in REFERENCE.findall(r.text)]
    assert set(found) == {
        "/docs/assets/swagger-ui.css",
        "/docs/assets/favicon-32x32.png",
        "/docs/assets/swagger-ui-bundle.js",
        "/openapi.json",
    }
    assert "http" not in r.text and "//" not in "".join(found)


def test_the_assets_are_served_and_are_swagger_ui_5(client: TestClient) -> None:
    for path, kind in (
        ("/docs/assets/swagger-ui.css", "text/css"),
        ("/docs/assets/favicon-32x32.png", "image/png"),
        ("/docs/assets/swagger-ui-bundle.js", "javascript"),
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        assert kind in r.headers["content-type"], (path, r.headers["content-type"])
    # Swagger UI 5 reads OpenAPI 3.1, which FastAPI writes (4.x shows an error instead)
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert client.get("/redoc").status_code == 404  # ReDoc would load from a CDN


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="rendering /docs offline needs Chromium and its driver: "
    "apt-get install chromium chromium-driver",
)
def test_docs_render_the_operations_in_chromium_with_no_network(
    tmp_path: Path, sqlite_template: Path
) -> None:
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install selenium")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    path = tmp_path / "docs.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    app = create_app(Settings(scheduler=False), engine=engine)
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        # no network: every host name but the loopback address fails to resolve
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        url = f"http://127.0.0.1:{port}"
        driver.get(f"{url}/docs")
        WebDriverWait(driver, 30).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 10
        )
        paths = {e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
        assert "/v1/pools/{pool}/postings" in {p.replace("\u200b", "") for p in paths}
        loaded = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert loaded and all(str(u).startswith(url) for u in loaded), loaded
    finally:
        driver.quit()
        srv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()
