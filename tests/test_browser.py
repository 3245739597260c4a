"""The page of `lmad serve` in a real headless browser (Debian's Chromium + ChromeDriver, selenium).

Skips with its reason where no browser is installed; `.ci/run` installs one.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from serve_page import (  # noqa: E402
    LocalServer, ask, browser_missing, in_viewer, open_page, region_sizes, requested_urls, start_browser)

pytestmark = pytest.mark.skipif(browser_missing() is not None, reason=browser_missing() or "")
QUERIES = ["grasp", "where to pour from"]


@pytest.fixture(scope="module")
def page():
    pytest.importorskip("fastapi")
    from lmad.predict import AffordanceDetector

    detector = AffordanceDetector.from_pretrained(device="cpu")
    with LocalServer(detector, token="s3cret") as server:
        driver = start_browser()
        try:
            yield driver, server, detector
        finally:
            driver.quit()


def picture(driver) -> np.ndarray:
    from io import BytesIO

    from matplotlib.image import imread

    return imread(BytesIO(driver.find_element("id", "result").screenshot_as_png))


def test_the_page_answers_as_the_python_api_does_and_redraws_without_asking_again(page):
    from selenium.webdriver.support.ui import Select

    driver, server, detector = page
    mug = REPO / "examples" / "mug.obj"
    open_page(driver, server.url + "/?token=s3cret")
    ask(driver, mug, ", ".join(QUERIES), up_axis="z")
    expected = detector.with_options(up_axis="z")(mug, QUERIES).summary()["queries"]
    assert region_sizes(driver) == {q: expected[q]["points"] for q in QUERIES}
    assert expected["grasp"]["points"] > 0

    label_map = picture(driver)
    in_viewer(driver, lambda d: Select(d.find_element("css selector", "[data-role=mode]")).select_by_index(1))
    heat_map = picture(driver)
    assert np.abs(heat_map - label_map).mean() > 0.001  # switching maps changes the picture
    urls = requested_urls(driver)  # everything so far (the log is read and emptied)
    assert sum("/predict" in u for u in urls) == 1

    def lower_the_threshold(d):
        Select(d.find_element("css selector", "[data-role=mode]")).select_by_index(0)
        slider = d.find_element("css selector", "[data-role=threshold]")
        d.execute_script("arguments[0].value = '0.1'; arguments[0].dispatchEvent(new Event('input'))", slider)

    in_viewer(driver, lower_the_threshold)
    lower = picture(driver)
    assert np.abs(lower - label_map).mean() > 0.001  # the slider redraws the regions
    assert region_sizes(driver)["grasp"] >= expected["grasp"]["points"]
    later = requested_urls(driver)
    assert not any("/predict" in u for u in later)  # redrawn in the page, not asked again

    outside = [u for u in urls + later if not u.startswith((server.url, "data:", "blob:", "about:"))]
    assert outside == []
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []


def test_the_page_shows_the_api_errors_and_keeps_the_token(page, tmp_path):
    driver, server, _ = page
    open_page(driver, server.url + "/?token=s3cret")
    broken = tmp_path / "broken.npy"
    broken.write_bytes(b"not an array at all")
    with pytest.raises(RuntimeError, match="broken.npy: not a NumPy .npy file"):
        ask(driver, broken, "grasp")
    driver.get(server.url + "/")  # no token: the page, like the API, is refused
    assert "bearer token" in driver.find_element("tag name", "body").text
