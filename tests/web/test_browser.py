"""The memory page in a real browser: Debian's Chromium, headless, driven through chromedriver by Selenium, against
the real server (uvicorn, in a thread) on a real database with the seed's shoppers.

Dana signs in, sees her peanut allergy first, opens its evidence from the keyboard, deletes a favourite after the
confirmation, exports her memory as a JSON download, follows a chat reply's citation to the memory behind it,
and clears everything after the stronger confirmation; at no point does the page hold anything of Sam's. The
page is also read at phone width. Screenshots of each state are saved under test-artifacts/screenshots/ (git
ignores it).

Chromium and chromedriver come from Debian (`scripts/install-chromium`, which `make test` runs): without them
this test is skipped, unless CMS_REQUIRE_BROWSER is set (as `make test` sets it), where their absence fails.
Selenium is given both paths, so it never looks for or downloads a browser or driver of its own."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Database
from tests.web import supabase_standin
from tests.web.conftest import (
    DANA,
    DANA_EMAIL,
    PASSWORD,
    SAM,
    WAIT_SECONDS,
    say_in_chat,
    serving,
)
from tests.web.test_supabase_mode import ANON_KEY
from worker.client.postgrest_adapter import PostgrestAdapter
from worker.config import Settings
from worker.prompt import calls
from worker.runtime.worker import BackgroundWorker
from worker.web.app import Backend, create_app
from worker.web.tokens import JWKS_PATH, JwksKeys, TokenVerifier

CHROMIUM = Path(os.environ.get("CMS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CMS_CHROMEDRIVER", "/usr/bin/chromedriver"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = (1280, 900)
PHONE = (390, 844)

webdriver: Any = None
try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement
except ImportError:  # pragma: no cover - selenium is a dev dependency
    pass


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} is missing (scripts/install-chromium installs Debian's chromium and chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser_available() -> None:
    missing = _browser_missing()
    if missing and os.environ.get("CMS_REQUIRE_BROWSER"):
        pytest.fail(f"CMS_REQUIRE_BROWSER is set, but {missing}")
    if missing:
        pytest.skip(missing)


@pytest.fixture
def downloads() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cms-downloads-") as folder:
        yield Path(folder)


@pytest.fixture
def browser(browser_available: None, downloads: Path) -> Iterator[WebDriver]:
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager, if ever asked, must not fetch anything
    profile = tempfile.mkdtemp(prefix="cms-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
        "--lang=en-US",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            result = condition()
        except Exception:  # the element may be between renders
            result = None
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _screenshot(driver: WebDriver, name: str, size: tuple[int, int], *, full_page: bool = True) -> Path:
    """A screenshot at `size`; `full_page` stretches the window to the page's height first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.set_window_size(*size)
    if full_page:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(size[0], min(max(size[1], height + 100), 6000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(*size)
    return path


def _card(driver: WebDriver, key: str) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f"li.memory[data-key='{key}']")


def _card_text_and_section(driver: WebDriver, key: str) -> tuple[str, str | None]:
    """A memory's text and its section, for `_wait`: the page draws the list again while it polls for what the
    worker learned, so an element found before a redraw goes stale and the whole read has to be retried."""
    card = _card(driver, key)
    return card.text, card.find_element(By.XPATH, "ancestor::section[1]").get_attribute("aria-labelledby")


def _no_trace_of_sam(driver: WebDriver) -> None:
    page = driver.page_source.lower()
    for word in ("shellfish", "oat milk", "oat-milk", str(SAM)):
        assert word not in page, f"Dana's page shows {word!r}, which is Sam's"


def test_a_shopper_sees_explains_deletes_exports_and_clears_her_memory(
    browser: WebDriver, page_url: str, downloads: Path, seeded: Database
) -> None:
    driver = browser
    driver.get(page_url)

    # Sign in as Dana, with the keyboard.
    email = _wait(lambda: driver.find_element(By.ID, "email"), "the sign-in form")
    assert driver.switch_to.active_element == email, "the sign-in form takes the focus"
    _screenshot(driver, "sign-in-desktop", DESKTOP, full_page=False)
    email.send_keys(DANA_EMAIL, Keys.TAB)
    driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER)

    # Her memory, allergies and diets first; the peanut allergy is there, as she said it.
    _wait(lambda: _card(driver, "peanuts"), "Dana's memories")
    sections = [h.text.split("\n")[0] for h in driver.find_elements(By.CSS_SELECTOR, ".memory-section h2")]
    assert sections[0] == "Allergies"
    # Her diets she stated: restrictions, right after the allergies.
    assert sections[1] == "Diets and restrictions" and "Shopping habits (not restrictions)" not in sections
    peanuts = _card(driver, "peanuts")
    assert "You told us" in peanuts.text and "You said" in peanuts.text
    assert "You told us you are allergic to peanuts" in peanuts.text and "Last confirmed" in peanuts.text
    # The charts are her orders counted, and say so; each has the same figures as a table for screen readers.
    charts = _wait(lambda: driver.find_element(By.ID, "charts"), "the charts")  # drawn after the list
    _wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#chart-grid figure svg")) == 3, "the charts")
    assert charts.is_displayed() and "What your assistant knows about how you shop" in charts.text
    assert "From your orders in the last 90 days" in charts.text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#chart-grid figure svg")) == 3
    with seeded.connect() as conn:
        figures = calls.client(conn, DANA).my_order_figures()
    weekday_rows = driver.find_elements(By.CSS_SELECTOR, "#chart-grid figure:nth-child(2) td")
    assert [int(td.get_attribute("textContent").split()[0]) for td in weekday_rows] == figures.by_weekday
    assert f"your {figures.orders} orders since" in charts.text
    _no_trace_of_sam(driver)

    # "Why?" from the keyboard: Tab to the allergy's button, Enter opens its evidence.
    why = peanuts.find_element(By.CSS_SELECTOR, "[data-action='why']")
    driver.find_element(By.ID, "clear-all").send_keys("")  # focus a control above the list
    for _ in range(20):
        if driver.switch_to.active_element == why:
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    assert driver.switch_to.active_element == why, "the Why? button is reachable with Tab"
    why.send_keys(Keys.ENTER)
    evidence = peanuts.find_element(By.CSS_SELECTOR, ".evidence")
    _wait(lambda: evidence.is_displayed() and "Why we think this" in evidence.text, "the allergy's evidence")
    assert why.get_attribute("aria-expanded") == "true"
    _screenshot(driver, "memories-desktop", DESKTOP)
    driver.execute_script("window.scrollTo(0, 0)")
    _screenshot(driver, "memories-desktop-top", (DESKTOP[0], 1500), full_page=False)  # the README's
    _screenshot(driver, "memories-phone", PHONE)
    driver.execute_script("document.getElementById('charts').scrollIntoView()")
    _screenshot(driver, "charts-phone", PHONE, full_page=False)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0], "no sideways scrolling"
    driver.set_window_size(*DESKTOP)

    # Delete a favourite, after the confirmation step; keeping it first changes nothing.
    eggs = _card(driver, "gv-organic-eggs")
    eggs.find_element(By.CSS_SELECTOR, "[data-action='delete']").click()
    dialog = _wait(lambda: driver.find_element(By.ID, "confirm-delete"), "the confirmation")
    assert dialog.is_displayed() and "Delete “Great Value Organic Large Eggs, 12 ct”?" in dialog.text
    dialog.find_element(By.CSS_SELECTOR, "button[value='cancel']").click()
    assert _card(driver, "gv-organic-eggs").is_displayed()
    _card(driver, "gv-organic-eggs").find_element(By.CSS_SELECTOR, "[data-action='delete']").click()
    _screenshot(driver, "delete-confirmation-desktop", DESKTOP, full_page=False)
    driver.find_element(By.ID, "confirm-delete-button").click()
    _wait(lambda: not driver.find_elements(By.CSS_SELECTOR, "li.memory[data-key='gv-organic-eggs']"), "the deletion")
    _wait(lambda: "no longer remembers" in driver.find_element(By.ID, "status").text, "the announcement")
    assert _card(driver, "milk-whole-gal").is_displayed(), "only that favourite went"

    # Export: a JSON file of everything stored about her, and nothing about anyone else.
    driver.find_element(By.ID, "export").click()
    exported = _wait(lambda: next(iter(downloads.glob("customer-memory-export-*.json")), None), "the download")
    _wait(lambda: exported.stat().st_size > 0 and not list(downloads.glob("*.crdownload")), "the download to finish")
    document = json.loads(exported.read_text())
    assert document["format"] == "customer-memory-export" and document["user_id"] == str(DANA)
    assert "gv-organic-eggs" not in {p["preference_key"] for p in document["preferences"]}
    assert "shellfish" not in exported.read_text() and str(SAM) not in exported.read_text()

    # The chat view: the reply cites her memories, each with a tooltip and a link to the memory.
    driver.find_element(By.CSS_SELECTOR, ".tabs a[data-view='chat']").click()
    box = _wait(lambda: driver.find_element(By.ID, "chat-input"), "the chat view")
    box.send_keys("What milk should I get?", Keys.ENTER)
    cite = _wait(lambda: driver.find_element(By.CSS_SELECTOR, ".bubble-assistant a.cite"), "a cited memory")
    assert "No model is configured" in driver.find_element(By.ID, "chat-mode").text
    answer = driver.find_element(By.CSS_SELECTOR, ".bubble-assistant .reply-text").text
    assert "what it would rely on" in answer and "Great Value Lactose-Free Whole Milk, 1 gal" in answer
    cite = next(  # the milk, after her allergy and diets
        c
        for c in driver.find_elements(By.CSS_SELECTOR, ".bubble-assistant a.cite")
        if "Lactose-Free Whole Milk"
        in (driver.find_element(By.ID, c.get_attribute("aria-describedby")).get_attribute("textContent") or "")
    )
    driver.execute_script("arguments[0].focus()", cite)
    tooltip = driver.find_element(By.ID, cite.get_attribute("aria-describedby"))
    assert tooltip.is_displayed() and tooltip.text.startswith("Great Value Lactose-Free Whole Milk, 1 gal")
    _screenshot(driver, "chat-desktop", DESKTOP)
    _screenshot(driver, "chat-phone", PHONE)
    driver.set_window_size(*DESKTOP)
    cite.click()
    _wait(lambda: "/memories/" in driver.current_url, "the memory's address")
    _wait(  # found afresh each time: the list is drawn again when the page comes back to it
        lambda: _card(driver, "milk-whole-gal").find_element(By.CSS_SELECTOR, ".evidence").is_displayed(),
        "the cited memory's evidence",
    )

    # Clear everything: the stronger confirmation says what goes, and needs the words typed.
    driver.execute_script("window.scrollTo(0, 0)")  # the button is at the top, where the shopper would look
    driver.find_element(By.ID, "clear-all").click()
    clear = driver.find_element(By.ID, "confirm-clear")
    assert "all 11 memories" in clear.text and "Allergies: 1" in clear.text and "Favourite items: 2" in clear.text
    confirm = driver.find_element(By.ID, "confirm-clear-button")
    assert not confirm.is_enabled()
    driver.find_element(By.ID, "confirm-clear-input").send_keys("delete everything")
    assert confirm.is_enabled()
    _screenshot(driver, "clear-confirmation-desktop", DESKTOP, full_page=False)
    confirm.click()
    _wait(lambda: driver.find_element(By.ID, "empty").is_displayed(), "the empty page")
    _screenshot(driver, "cleared-desktop", DESKTOP, full_page=False)
    _no_trace_of_sam(driver)

    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == [], f"the browser reported errors: {problems}"


def _sign_in_as_dana(driver: WebDriver, page_url: str) -> None:
    driver.get(page_url)
    email = _wait(lambda: driver.find_element(By.ID, "email"), "the sign-in form")
    email.send_keys(DANA_EMAIL)
    driver.find_element(By.ID, "password").send_keys(PASSWORD, Keys.ENTER)
    _wait(lambda: _card(driver, "peanuts"), "Dana's memories")


def _peanut_allergy(db: Database) -> dict[str, Any] | None:
    with db.connect() as conn:
        row = conn.execute(
            "select id, confidence, pending_removal from public.customer_preferences"
            " where user_id = %s and preference_type = 'allergy' and preference_key = 'peanuts'",
            (DANA,),
        ).fetchone()
    return dict(row) if row else None


def test_a_removal_asked_for_in_chat_waits_until_the_shopper_keeps_or_confirms_it(
    browser: WebDriver, page_url: str, seeded: Database
) -> None:
    driver = browser
    say_in_chat(seeded, DANA, "Please forget that I'm allergic to peanuts")
    _sign_in_as_dana(driver, page_url)

    # Shown on the allergy itself, and above the list: it is still in use.
    peanuts = _card(driver, "peanuts")
    pending = peanuts.find_element(By.CSS_SELECTOR, ".pending")
    assert "You asked to remove this; it stays in use until you confirm." in pending.text
    assert "You wrote “Please forget that I'm allergic to peanuts”" in pending.text
    assert "stays in use" in driver.find_element(By.ID, "pending-notice").text
    assert len(driver.find_elements(By.CSS_SELECTOR, "li.memory .pending")) == 1
    _screenshot(driver, "pending-removal-desktop", DESKTOP)
    _screenshot(driver, "pending-removal-phone", PHONE)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0], "no sideways scrolling"
    driver.set_window_size(*DESKTOP)

    # Keep it, from the keyboard: the allergy stays as it was, the question is gone.
    keep = pending.find_element(By.CSS_SELECTOR, "[data-action='keep']")
    assert keep.get_attribute("aria-label") == "Keep “Peanuts”"
    keep.send_keys(Keys.ENTER)
    _wait(lambda: "goes on using it" in driver.find_element(By.ID, "status").text, "the announcement")
    _wait(lambda: not _card(driver, "peanuts").find_elements(By.CSS_SELECTOR, ".pending"), "the answered question")
    assert not driver.find_element(By.ID, "pending-notice").is_displayed()
    kept = _peanut_allergy(seeded)
    assert kept is not None and kept["pending_removal"] is None and kept["confidence"] == 1
    with seeded.connect() as conn:
        assert "peanuts" in {item.key for item in calls.memory_context(conn, DANA).allergies}

    # Asked again; this time confirmed, after the confirmation step (cancelling it first changes nothing).
    say_in_chat(seeded, DANA, "Please forget that I'm allergic to peanuts")
    driver.refresh()
    confirm = _wait(
        lambda: _card(driver, "peanuts").find_element(By.CSS_SELECTOR, "[data-action='confirm-removal']"),
        "the question asked again",
    )
    confirm.send_keys(Keys.ENTER)
    dialog = driver.find_element(By.ID, "confirm-delete")
    assert dialog.is_displayed() and "Remove “Peanuts”?" in dialog.text
    assert "stop keeping it out of what it suggests" in dialog.text
    _screenshot(driver, "pending-removal-confirmation-desktop", DESKTOP, full_page=False)
    dialog.find_element(By.CSS_SELECTOR, "button[value='cancel']").send_keys(Keys.ENTER)
    assert _card(driver, "peanuts").find_elements(By.CSS_SELECTOR, ".pending")
    assert _peanut_allergy(seeded) is not None
    _card(driver, "peanuts").find_element(By.CSS_SELECTOR, "[data-action='confirm-removal']").send_keys(Keys.ENTER)
    driver.find_element(By.ID, "confirm-delete-button").send_keys(Keys.ENTER)
    _wait(lambda: not driver.find_elements(By.CSS_SELECTOR, "li.memory[data-key='peanuts']"), "the removal")
    _wait(lambda: "as you asked" in driver.find_element(By.ID, "status").text, "the announcement")
    assert _peanut_allergy(seeded) is None
    with seeded.connect() as conn:
        assert "peanuts" not in {item.key for item in calls.memory_context(conn, DANA).allergies}
    _no_trace_of_sam(driver)
    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == [], f"the browser reported errors: {problems}"


def _act(driver: WebDriver, key: str, action: str) -> None:
    """Press a memory's button from the keyboard, found afresh until it takes (the list may be drawn again as the
    page reads it after the worker learned something)."""

    def press() -> bool:
        _card(driver, key).find_element(By.CSS_SELECTOR, f"[data-action='{action}']").send_keys(Keys.ENTER)
        return True

    _wait(press, f"the {action} button of {key}")


def _say_in_the_page_chat(driver: WebDriver, message: str) -> None:
    """Dana types `message` in the page's chat and waits until the page says the worker learned from it."""
    driver.find_element(By.CSS_SELECTOR, ".tabs a[data-view='chat']").click()
    box = _wait(lambda: driver.find_element(By.ID, "chat-input"), "the chat view")
    replies = len(driver.find_elements(By.CSS_SELECTOR, ".bubble-assistant .reply-text"))
    box.send_keys(message, Keys.ENTER)
    _wait(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".bubble-assistant .reply-text")) > replies, "the reply")
    note = driver.find_element(By.ID, "chat-learning")
    assert note.is_displayed() and "a change shows under “What we remember” within seconds" in note.text
    _wait(lambda: "The assistant learned from your message" in note.text, "the worker to learn from the message")


def test_what_she_says_in_the_page_chat_is_learned_and_a_removal_waits_for_her_answer(
    browser: WebDriver, backend: Backend, page_url: str, seeded: Database
) -> None:
    """The page's chat records each message as Dana (record_message); the worker beside the server (as `make run`
    and `customer-memory serve` run it) reads it, and the page shows what it learned."""
    driver = browser
    backend.worker_beside = True
    with BackgroundWorker(Settings(), seeded.url()):
        _sign_in_as_dana(driver, page_url)

        # A stated allergy: on her page, as she said it.
        _say_in_the_page_chat(driver, "I'm allergic to sesame")
        _screenshot(driver, "chat-learned-desktop", DESKTOP)
        driver.find_element(By.CSS_SELECTOR, "#chat-learning a").click()
        sesame, section = _wait(lambda: _card_text_and_section(driver, "sesame"), "the sesame allergy on her page")
        assert "You told us you are allergic to sesame" in sesame and "You said" in sesame
        assert section == "section-allergies"

        # A request to forget the peanut allergy: shown as a pending removal; the allergy stays in use.
        _say_in_the_page_chat(driver, "Please forget that I'm allergic to peanuts")
        driver.find_element(By.CSS_SELECTOR, "#chat-learning a").click()
        pending = _wait(lambda: _card(driver, "peanuts").find_element(By.CSS_SELECTOR, ".pending").text, "the question")
        assert "You wrote “Please forget that I'm allergic to peanuts”" in pending
        with seeded.connect() as conn:
            assert "peanuts" in {item.key for item in calls.memory_context(conn, DANA).allergies}
        _act(driver, "peanuts", "keep")
        _wait(lambda: "goes on using it" in driver.find_element(By.ID, "status").text, "the announcement")
        kept = _peanut_allergy(seeded)
        assert kept is not None and kept["pending_removal"] is None

        # Asked again in the page's chat, and this time confirmed.
        _say_in_the_page_chat(driver, "Please forget that I'm allergic to peanuts")
        driver.find_element(By.CSS_SELECTOR, "#chat-learning a").click()
        _act(driver, "peanuts", "confirm-removal")
        _wait(lambda: driver.find_element(By.ID, "confirm-delete").is_displayed(), "the confirmation")
        driver.find_element(By.ID, "confirm-delete-button").send_keys(Keys.ENTER)
        _wait(lambda: not driver.find_elements(By.CSS_SELECTOR, "li.memory[data-key='peanuts']"), "the removal")
        assert _peanut_allergy(seeded) is None
    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == [], f"the browser reported errors: {problems}"


def test_on_supabase_the_page_refreshes_its_token_before_it_expires_and_ends_the_session_when_refused(
    browser: WebDriver,
) -> None:
    driver = browser
    standin = supabase_standin.SupabaseStandin(token_seconds=8)  # refreshed after half its life: 4 s
    with serving(standin.app()) as supabase_url, httpx.Client(timeout=10) as http:
        standin.url = supabase_url
        backend = Backend(
            functions=PostgrestAdapter(supabase_url, ANON_KEY, http_client=http),
            verifier=TokenVerifier(f"{supabase_url}/auth/v1", jwks=JwksKeys(f"{supabase_url}{JWKS_PATH}", http)),
            auth_url=f"{supabase_url}/auth/v1",
            anon_key=ANON_KEY,
        )
        with serving(create_app(backend)) as page_url:
            driver.get(page_url)
            _wait(lambda: driver.find_element(By.ID, "email"), "the sign-in form").send_keys(supabase_standin.EMAIL)
            driver.find_element(By.ID, "password").send_keys(supabase_standin.PASSWORD, Keys.ENTER)
            _wait(lambda: _card(driver, "peanuts"), "the memories, read from PostgREST")
            first = standin.sessions[0]

            # Before it expires, the page trades the refresh token for a new pair, with the project's anon key.
            [refresh, *_] = _wait(standin.refreshes, "a refresh")
            assert refresh.body == {"refresh_token": first["refresh_token"]}
            assert refresh.headers["apikey"] == ANON_KEY
            assert time.time() < first["expires_at"], "refreshed before the first token expired"

            # Past the first token's expiry, the page still reads the memories, with a token it got by refreshing.
            time.sleep(max(0.0, first["expires_at"] + 1 - time.time()))
            seen = len(standin.postgrest())
            driver.find_element(By.CSS_SELECTOR, ".tabs a[data-view='memories']").click()
            reread = _wait(lambda: standin.postgrest()[seen:], "the memories read again")
            refreshed = {f"Bearer {s['access_token']}" for s in standin.sessions[1:]}
            assert reread[0].headers["authorization"] in refreshed
            stored = json.loads(driver.execute_script("return sessionStorage.getItem('customer-memory.session')"))
            assert stored["access_token"] != first["access_token"] and stored["refresh_token"] != first["refresh_token"]

            # When Auth refuses the refresh token (revoked, signed out elsewhere), the session ends on the page.
            standin.refuse_refresh = True
            error = _wait(lambda: driver.find_element(By.ID, "sign-in-error").text, "the end of the session")
            assert error == "Your session has ended: sign in again."
            assert not driver.find_elements(By.CSS_SELECTOR, "li.memory")
            assert driver.execute_script("return sessionStorage.getItem('customer-memory.session')") is None


def test_a_signed_out_visitor_and_a_wrong_password_see_no_memory(browser: WebDriver, page_url: str) -> None:
    driver = browser
    driver.get(f"{page_url}/memories/c0000000-0000-4000-8000-000000000005")
    form = _wait(lambda: driver.find_element(By.ID, "sign-in-form"), "the sign-in form")
    assert not driver.find_elements(By.CSS_SELECTOR, "li.memory")
    driver.find_element(By.ID, "email").send_keys(DANA_EMAIL)
    driver.find_element(By.ID, "password").send_keys("not her password", Keys.ENTER)
    error = _wait(lambda: driver.find_element(By.ID, "sign-in-error").text, "the refusal")
    assert error == "Invalid login credentials"
    assert form.is_displayed() and not driver.find_elements(By.CSS_SELECTOR, "li.memory")
