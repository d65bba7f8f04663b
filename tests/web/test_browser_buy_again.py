"""Buy-again timing on the memory page, in a real browser (Debian's Chromium, as tests/web/test_browser.py runs it):
Riley's milk and eggs, learned by the worker from her weekly orders, each show when they are usually bought again
in the words of the assistant's prompt line; the milk, whose window has opened, is marked "Due now" in words, the
eggs, bought two days ago, are not. Skipped without Chromium unless CMS_REQUIRE_BROWSER is set (then it fails)."""

from __future__ import annotations

import re

from tests.conftest import Database
from tests.web.conftest import EGGS, MILK, RILEY, RILEY_EMAIL, SEED_PASSWORD
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    PHONE,
    By,
    Keys,
    WebDriver,
    _card,
    _screenshot,
    _wait,
    browser,
    browser_available,
    downloads,
)
from worker.prompt import calls
from worker.prompt.render import render_memory_block


def _prompt_line_timing(block: str, sku: str) -> str:
    """A favourite's timing as the prompt's line says it: "- <name>, sku <sku>, <timing> (<reason>) [mN]"."""
    line = next(line for line in block.splitlines() if f", sku {sku}, " in line)
    return line.split(f", sku {sku}, ", 1)[1].rsplit(" [m", 1)[0].rsplit(" (", 1)[0]


def test_a_favourite_due_again_is_marked_in_words_and_one_not_due_is_not(
    browser: WebDriver,  # noqa: F811 (the fixture)
    page_url: str,
    riley_buys_again: Database,
) -> None:
    driver = browser
    driver.get(page_url)
    _wait(lambda: driver.find_element(By.ID, "email"), "the sign-in form").send_keys(RILEY_EMAIL)
    driver.find_element(By.ID, "password").send_keys(SEED_PASSWORD, Keys.ENTER)
    _wait(lambda: _card(driver, MILK.sku), "Riley's favourites")
    with riley_buys_again.connect() as conn:
        block = render_memory_block(calls.memory_context(conn, RILEY)).text

    # The milk: its own row with the prompt line's words, and a badge that says it is due, in words.
    milk = _card(driver, MILK.sku)
    timing = milk.find_element(By.CSS_SELECTOR, ".memory-timing").text
    assert re.fullmatch(r"Buy again: about every [78] days, last bought 9 days ago \(due now\)", timing), timing
    assert timing == f"Buy again: {_prompt_line_timing(block, MILK.sku)}"
    [badge] = milk.find_elements(By.CSS_SELECTOR, ".memory-title .badge-due")
    assert badge.is_displayed() and badge.text == "Due now"

    # The eggs: their timing, not due, and no badge.
    eggs = _card(driver, EGGS.sku)
    timing = eggs.find_element(By.CSS_SELECTOR, ".memory-timing").text
    assert re.fullmatch(r"Buy again: about every [78] days, last bought 2 days ago", timing), timing
    assert timing == f"Buy again: {_prompt_line_timing(block, EGGS.sku)}"
    assert not eggs.find_elements(By.CSS_SELECTOR, ".badge-due") and "Due now" not in eggs.text

    # Only favourites carry a buy-again row or a badge.
    assert len(driver.find_elements(By.CSS_SELECTOR, "li.memory .badge-due")) == 1
    for card in driver.find_elements(By.CSS_SELECTOR, "li.memory .memory-timing"):
        assert card.find_element(By.XPATH, "ancestor::section[1]").get_attribute("aria-labelledby") == (
            "section-favorites"
        )
    _screenshot(driver, "buy-again-desktop", DESKTOP)
    _screenshot(driver, "buy-again-phone", PHONE)
    assert driver.execute_script("return document.documentElement.scrollWidth") <= PHONE[0], "no sideways scrolling"
    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == [], f"the browser reported errors: {problems}"
