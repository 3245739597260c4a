"""The page of `lmad serve` in a real headless browser: how fast it is ready and answers, and a
screenshot for the README.

    python benchmarks/serve_page.py                                   # timings; docs/serve_page.png
    python benchmarks/serve_page.py --screenshot ''                   # timings only

Needs Debian's chromium and chromium-driver (``apt-get install chromium chromium-driver``) and
selenium (the ``test`` extra). Starts the service with the shipped model on 127.0.0.1 (a free
port, forward passes in the server's thread), opens the page in headless Chromium, and times:
the page ready (interactive) after navigation starts; the example mug asked two queries, and a
20,000-point scan (the mug's surface sampled, as ``.npy``), each from the click to the answer
drawn. ``tests/test_browser.py`` drives the page with the same functions.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


def browser_missing() -> str | None:
    """Why no browser test can run here, or None."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install 'lmad[test]')"
    if shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    if shutil.which("chromedriver") is None and not Path(CHROMEDRIVER).exists():
        return "ChromeDriver is not installed (apt-get install chromium-driver)"
    return None


class LocalServer:
    """``lmad serve``'s application on 127.0.0.1 in a thread of this process (forward passes in a thread)."""

    def __init__(self, detector, token: str | None = None):
        import uvicorn

        from lmad.serve import create_app

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(create_app(detector, token=token, model_processes=0), host="127.0.0.1",
                                port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LocalServer":
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("the server did not start within 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_browser(width: int = 1280, height: int = 860):
    """Headless Chromium through ChromeDriver, logging the console and every network request."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def open_page(driver, url: str) -> float:
    """Navigate to the page; seconds from navigation start to the page's script having run."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
    return driver.execute_script(
        "const t = performance.getEntriesByType('navigation')[0]; return (t.domInteractive) / 1000;")


def ask(driver, path: Path, queries: str, up_axis: str = "y", timeout: float = 60) -> float:
    """Upload ``path``, ask ``queries``, wait for the answer to be drawn; seconds from the click."""
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.find_element("id", "file").send_keys(str(path))
    box = driver.find_element("id", "queries")
    box.clear()
    box.send_keys(queries)
    Select(driver.find_element("id", "up_axis")).select_by_value(up_axis)
    before = driver.find_element("tag name", "body").get_attribute("data-drawn")
    started = time.perf_counter()
    driver.find_element("id", "go").click()
    WebDriverWait(driver, timeout).until(
        lambda d: d.find_element("tag name", "body").get_attribute("data-drawn") not in (None, before)
        or d.find_element("id", "error").text)
    seconds = time.perf_counter() - started
    error = driver.find_element("id", "error").text
    if error:
        raise RuntimeError(f"the page showed an error: {error}")
    return seconds


def region_sizes(driver) -> dict[str, int]:
    """Per query, the points of its region as the page's viewer counts them."""
    driver.switch_to.frame(driver.find_element("id", "result"))
    try:
        return {e.get_attribute("data-region"): int(e.get_attribute("data-points"))
                for e in driver.find_elements("css selector", "[data-region]")}
    finally:
        driver.switch_to.default_content()


def in_viewer(driver, action) -> None:
    """Run ``action(driver)`` inside the result frame."""
    driver.switch_to.frame(driver.find_element("id", "result"))
    try:
        action(driver)
    finally:
        driver.switch_to.default_content()


def requested_urls(driver) -> list[str]:
    """Every URL the browser requested so far (from its performance log)."""
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", default=str(ROOT / "docs" / "serve_page.png"))
    args = parser.parse_args(argv)
    missing = browser_missing()
    if missing:
        sys.exit(missing)
    import tempfile

    import numpy as np
    import trimesh

    from lmad.predict import AffordanceDetector

    detector = AffordanceDetector.from_pretrained()
    with tempfile.TemporaryDirectory() as folder, LocalServer(detector) as server:
        scan = Path(folder) / "mug_20k.npy"
        mesh = trimesh.load(ROOT / "examples" / "mug.obj", force="mesh")
        np.save(scan, np.asarray(trimesh.sample.sample_surface(mesh, 20_000, seed=0)[0]))
        driver = start_browser()
        try:
            ready = [open_page(driver, server.url + "/") for _ in range(3)]
            mug = ask(driver, ROOT / "examples" / "mug.obj", "grasp, where to pour from", "z")
            big = [ask(driver, scan, "grasp, contain, wrap_grasp", "z") for _ in range(3)]
            print(f"page ready (DOM interactive): {', '.join(f'{s:.3f}' for s in ready)} s   target <= 1 s")
            print(f"examples/mug.obj (10,000 points), 2 queries, answered and drawn: {mug:.2f} s")
            print(f"20,000-point scan, 3 queries, answered and drawn: {', '.join(f'{s:.2f}' for s in big)} s"
                  "   target <= 3 s")
            if args.screenshot:
                ask(driver, ROOT / "examples" / "mug.obj", "grasp, where to pour from, contain", "z")
                driver.save_screenshot(args.screenshot)
                print(f"wrote {args.screenshot}")
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
