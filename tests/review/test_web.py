"""The review page: token, escaping, CSRF, loopback-only, and a real headless browser."""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import httpx
import pytest

from raresupport.review.reviewers.web import WebReviewer, WebReviewError
from raresupport.review.store import ReviewStore

XSS = "<script>alert(1)</script>"


def _items(hyperhidrosis):
    from tests.review.conftest import make_items

    items = make_items(hyperhidrosis, 3)
    v = items[0].vignette
    items[0] = items[0].model_copy(
        update={"vignette": v.model_copy(update={"case": f"{v.case} {XSS}"})}
    )
    return items


class _Served:
    """A WebReviewer reviewing in a thread; ``url`` is the printed link with the token."""

    def __init__(self, store: ReviewStore, items, disease) -> None:
        self.ready = threading.Event()
        self.lines: list[str] = []
        self.reviewer = WebReviewer(id="ann", port=0, announce=self._announce)
        self.thread = threading.Thread(target=self.reviewer.review, args=(store, items, disease),
                                       daemon=True)  # fmt: skip
        self.thread.start()
        assert self.ready.wait(60), "the review server did not start"
        self.url = self.lines[0].split()[-1]
        self.base = self.url.split("/?")[0]

    def _announce(self, line: str) -> None:
        self.lines.append(line)
        self.ready.set()

    def stop(self) -> None:
        if self.reviewer.server is not None:
            self.reviewer.server.should_exit = True
        self.thread.join(60)


def test_non_loopback_bind_is_refused() -> None:
    with pytest.raises(WebReviewError, match="not a loopback address"):
        WebReviewer(host="0.0.0.0")
    with pytest.raises(WebReviewError):
        WebReviewer(host="192.168.1.10")
    assert WebReviewer(host="0.0.0.0", allow_remote=True).host == "0.0.0.0"
    assert WebReviewer(host="::1").host == "::1"


def test_token_csrf_and_escaping_over_http(tmp_path: Path, hyperhidrosis, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    store = ReviewStore(tmp_path / "review.sqlite")
    items = _items(hyperhidrosis)
    store.add_items(items)
    served = _Served(store, items, hyperhidrosis)
    try:
        assert "token=" in served.url and served.url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=served.base) as anon:
            assert anon.get("/").status_code == 401
            assert anon.get("/?token=wrong").status_code == 401
            assert anon.post("/decide", data={"action": "approve"}).status_code == 401
        with httpx.Client(base_url=served.base, follow_redirects=True) as client:
            page = client.get(served.url)
            assert page.status_code == 200 and str(page.url).endswith("/")
            assert "token=" not in str(page.url)
            assert XSS not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
            csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
            form = {"item_id": items[0].id, "action": "approve"}
            assert client.post("/decide", data=form).status_code == 403  # no CSRF token
            bad_origin = client.post("/decide", data={**form, "csrf": csrf},
                                     headers={"Origin": "http://evil.example"})  # fmt: skip
            assert bad_origin.status_code == 403
            incomplete = client.post("/decide", data={**form, "action": "correct", "csrf": csrf})
            assert incomplete.status_code == 400 and "rationale" in incomplete.text
            assert store.count() == 0
            ok = client.post("/decide", data={**form, "csrf": csrf, "empathy": "4"})
            assert ok.status_code == 200 and f"decided 1 of {len(items)}" in ok.text
            client.post("/decide", data={**form, "csrf": csrf, "action": "reject",
                                         "reason": "double submit"})  # fmt: skip
        [d] = store.decisions()
        assert (d.action, d.reviewer_kind, d.reviewer_id, d.rubric.empathy) == (
            "approve", "web", "ann", 4)
    finally:
        served.stop()
    token = served.url.split("token=")[1]
    server_logs = [r.getMessage() for r in caplog.records
                   if not r.name.startswith(("httpx", "httpcore"))]  # the test's own client
    assert server_logs and not any(token in m for m in server_logs)  # printed, never logged


def _chromium():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.skip("Debian chromium + chromium-driver not installed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    return options, Service(executable_path=driver)


def test_review_in_a_headless_browser_by_keyboard(tmp_path: Path, hyperhidrosis) -> None:
    from selenium import webdriver
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    options, service = _chromium()
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    store = ReviewStore(tmp_path / "review.sqlite")
    items = _items(hyperhidrosis)
    store.add_items(items)
    served = _Served(store, items, hyperhidrosis)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        wait = WebDriverWait(driver, 60)

        def shows(item_id: str) -> None:
            wait.until(lambda d: d.find_elements(By.ID, "item-id")
                       and d.find_element(By.ID, "item-id").text == item_id)  # fmt: skip

        driver.get(served.url)
        shows(items[0].id)
        assert XSS in driver.find_element(By.ID, "case").text  # shown as text ...
        with pytest.raises(NoAlertPresentException):
            driver.switch_to.alert.accept()  # ... and never run
        assert "decided 0 of 3" in driver.find_element(By.ID, "progress").text
        ActionChains(driver).send_keys("a").perform()  # approve item 0
        shows(items[1].id)
        ActionChains(driver).send_keys("c").perform()  # correct item 1: letter, rationale
        target = next(k for k in "ABCD" if k != items[1].model_answer)
        ActionChains(driver).send_keys(target).send_keys(Keys.TAB).perform()
        ActionChains(driver).send_keys("the key fact decides it", Keys.ENTER).perform()
        shows(items[2].id)
        ActionChains(driver).send_keys("r").perform()  # reject item 2
        ActionChains(driver).send_keys("two options are both right", Keys.ENTER).perform()
        wait.until(lambda d: d.find_elements(By.ID, "finished"))
        assert "decided 3 of 3" in driver.find_element(By.ID, "progress").text
    finally:
        driver.quit()
        served.stop()
    got = [(d.item_id, d.action, d.answer, d.rationale, d.reason) for d in store.decisions()]
    assert got == [
        (items[0].id, "approve", items[0].model_answer, "", ""),
        (items[1].id, "correct", target, "the key fact decides it", ""),
        (items[2].id, "reject", None, "", "two options are both right"),
    ]
    assert not served.thread.is_alive()  # the server stopped once all items were decided
