"""The dashboard as a user sees it: `ciudad demo` running, the page in headless Chromium
(Debian's chromium and chromedriver, driven by Selenium), a screenshot kept."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from acquisition import Batch, EntityRecord, Reading, ValueType
from ciudad.database import open_store_at
from support.net import free_port, wait_for_port
from tests.helpers.demo_process import Demo, wait_for_fleet
from tests.helpers.waiting import CEILING_S, eventually

pytestmark = [pytest.mark.integration, pytest.mark.slow]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
# Where the screenshot is kept for people to look at (CI keeps the clone's files).
SCREENSHOT = Path(__file__).resolve().parents[2] / ".ciudad-test-artifacts" / "dashboard.png"
STATION = "urn:ngsi-ld:AirQualityObserved:leon:roadside"


def call(method: str, url: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("NGSILD-Tenant", "leon")
    with urllib.request.urlopen(request, timeout=10) as answer:
        text = answer.read()
    return json.loads(text) if text else None


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    # No --duration: the demo runs until the test is done with it, however slow the machine.
    process = Demo(tmp_path / "data", free_port(), "--backfill", "3600",
                   env={"CIUDAD_ALERT_INTERVAL_S": "5"})  # fmt: skip
    try:
        wait_for_fleet(process.api)
        yield process.api
    finally:
        process.process.terminate()
        process.wait_exit()
        process.kill()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-sync",
                 "--disable-component-update", "--window-size=1400,1100",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='ciudad-chromium-')}"):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait(check: Callable[[], Any]) -> Any:
    return eventually(check)


def roadside_no2_exceedance(api: str) -> None:
    """An hour of NO2 above the EU hourly limit at a roadside station, evaluated now."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    values = [
        {"type": "Property", "value": 260.0 + m, "observedAt": at.isoformat()}
        for m, at in ((m, hour + timedelta(minutes=m)) for m in (0, 20, 40))
    ]
    where = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.566, 42.5990]}}
    entity = {"id": STATION, "type": "AirQualityObserved", "no2": values, "location": where}
    call("POST", f"{api}/ngsi-ld/v1/temporal/entities", entity)
    window = f"timeAt={hour.isoformat()}&endTimeAt={(hour + timedelta(hours=1)).isoformat()}"
    evaluate = f"{api}/ciudad/v1/services/alerts/evaluate?{window}".replace("+", "%2B")
    raised = call("POST", evaluate)
    assert raised["raised"] >= 1


def test_the_dashboard_shows_the_city_and_acknowledges_an_alert(
    demo: str, browser: WebDriver
) -> None:
    roadside_no2_exceedance(demo)
    browser.get(f"{demo}/dashboard?tenant=leon")
    wait(lambda: browser.execute_script("return document.body.dataset.loaded === 'true'"))

    sensors = browser.find_elements(By.CSS_SELECTOR, "#map circle.sensor")
    states = {s.get_attribute("class").split()[1] for s in sensors}
    assert len(sensors) == 30  # 29 simulated sensors and the roadside station
    assert states <= {f"state-{s}" for s in ("good", "fair", "poor", "on", "off", "fault", "stale")}
    lamp_states = {s.get_attribute("class").split()[1]
                   for s in sensors if "kind-lighting" in s.get_attribute("class")}  # fmt: skip
    assert lamp_states & {"state-on", "state-off", "state-fault"}
    assert browser.find_element(By.CSS_SELECTOR, "#kpi-sensors-online .value").text.endswith("%")
    assert browser.find_element(By.CSS_SELECTOR, "#kpi-parking .value").text.endswith("%")
    for chart in ("noise", "air", "parking", "energy"):
        assert browser.find_elements(By.CSS_SELECTOR, f"#chart-{chart} path.line"), chart

    roadside = wait(lambda: [a for a in browser.find_elements(By.CSS_SELECTOR, "#alerts li.open")
                             if STATION in a.text])  # fmt: skip
    assert "NO2 hourly mean above the EU limit value" in roadside[0].text
    SCREENSHOT.parent.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    roadside[0].find_element(By.CSS_SELECTOR, "button.ack").click()
    alerts_url = f"{demo}/ciudad/v1/services/alerts?status=acknowledged"
    listed = wait(lambda: [a for a in call("GET", alerts_url) if a["source"] == STATION])
    assert listed[0]["acknowledgedAt"] is not None
    done = "#alerts li.acknowledged"
    wait(lambda: [a for a in browser.find_elements(By.CSS_SELECTOR, done) if STATION in a.text])
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


@pytest.fixture(autouse=True)
def _chromium_installed() -> None:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("chromium and chromium-driver are missing: run scripts/setup.sh as root")


def ciudad(env: dict[str, str], *argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", "ciudad", *argv], env=env, check=True,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    return done.stdout


async def store_a_roadside_exceedance(database_url: str) -> None:
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    where = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-5.566, 42.599]}}
    readings = tuple(
        Reading("leon", STATION, "AirQualityObserved", "no2", hour + timedelta(minutes=m),
                250.0, ValueType.NUMBER, "GQ")
        for m in (0, 30)
    )  # fmt: skip
    store = await open_store_at(database_url, max_size=1)
    try:
        entity = EntityRecord("leon", STATION, "AirQualityObserved", {"location": where})
        await store.write_batch(Batch(readings, (entity,)))
    finally:
        await store.close()


def key_for(env: dict[str, str], scope: str) -> str:
    made = ciudad(env, "apikey", "create", "--tenant", "leon", "--scope", scope, "--name", scope)
    return str(json.loads(made)["key"])


async def test_with_api_keys_the_page_asks_for_one_and_acknowledging_needs_write(
    database_url: str, browser: WebDriver, tmp_path: Path
) -> None:
    await store_a_roadside_exceedance(database_url)
    port = free_port()
    env = dict(os.environ, CIUDAD_DATABASE_URL=database_url, CIUDAD_API_PORT=str(port),
               CIUDAD_DATA_DIR=str(tmp_path), CIUDAD_ALERT_INTERVAL_S="1",
               CIUDAD_API_AUTH="keys")  # fmt: skip
    env.pop("CIUDAD_DEFAULT_TENANT", None)
    read_key, write_key = key_for(env, "read"), key_for(env, "write")
    ciudad(env, "groups", "add", "leon-sensors", "leon")
    api = subprocess.Popen([sys.executable, "-m", "ciudad", "api"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        assert wait_for_port(port, timeout_s=CEILING_S)
        browser.get(f"http://127.0.0.1:{port}/dashboard?tenant=leon")
        status = browser.find_element(By.ID, "status")
        wait(lambda: "HTTP 401" in status.text)

        def show_with(key: str) -> None:
            field = browser.find_element(By.ID, "apikey")
            field.clear()
            field.send_keys(key)
            browser.find_element(By.CSS_SELECTOR, "#settings button").click()

        show_with(read_key)
        wait(lambda: browser.execute_script("return document.body.dataset.loaded === 'true'"))
        assert len(browser.find_elements(By.CSS_SELECTOR, "#map circle.sensor")) == 1
        button = wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#alerts li.open button.ack"))
        button[0].click()
        wait(lambda: "could not acknowledge" in status.text and "HTTP 403" in status.text)
        show_with(write_key)
        wait(lambda: "could not" not in status.text)
        wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#alerts li.open button.ack"))[
            0
        ].click()
        wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#alerts li.acknowledged"))
    finally:
        api.terminate()
        api.wait(30)
