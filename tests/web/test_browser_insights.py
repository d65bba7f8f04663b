"""Questions suggested from the orders, in a real browser (Debian's Chromium, as tests/web/test_browser.py runs it):
Dana's orders suggest young children; the page asks her above "About you", the assistant's prompt does not
carry it, she answers Yes, and the prompt the chat would send now says so, as something she confirmed. Skipped
without Chromium unless CMS_REQUIRE_BROWSER is set (then it fails)."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Database
from tests.web.conftest import DANA
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    DESKTOP,
    By,
    Keys,
    WebDriver,
    _card,
    _screenshot,
    _sign_in_as_dana,
    _wait,
    browser,
    browser_available,
    downloads,
)
from worker.prompt import calls

QUESTION = "Are you shopping for young children?"
BECAUSE = "We noticed baby food, formula or diapers in 6 of your last 10 orders"


def _prompt_after_asking(driver: WebDriver, message: str) -> str:
    """The system prompt the chat would send for `message`, as the chat view shows it under the reply."""
    driver.find_element(By.CSS_SELECTOR, ".tabs a[data-view='chat']").click()
    box = _wait(lambda: driver.find_element(By.ID, "chat-input"), "the chat view")
    before = len(driver.find_elements(By.CSS_SELECTOR, ".bubble-assistant details.prompt"))
    box.send_keys(message, Keys.ENTER)
    _wait(
        lambda: len(driver.find_elements(By.CSS_SELECTOR, ".bubble-assistant details.prompt")) > before,
        "the reply and its prompt",
    )
    prompt = driver.find_elements(By.CSS_SELECTOR, ".bubble-assistant details.prompt")[-1]
    text: str = prompt.find_element(By.CSS_SELECTOR, "pre").get_attribute("textContent") or ""
    return text


def test_a_question_answered_yes_reaches_the_prompt(
    browser: WebDriver,  # noqa: F811 (the fixture)
    page_url: str,
    seeded: Database,
) -> None:
    driver = browser
    with seeded.connect() as conn:
        conn.execute(
            "insert into public.memory_insights (user_id, insight_type, insight_key, insight_value, confidence,"
            " supporting_data, source, status) values (%s, 'context', 'children', 'Shopping for young children',"
            " 0.63, %s, 'inferred', 'question')",
            (DANA, json.dumps({"question": QUESTION, "because": BECAUSE, "orders": 6, "of_orders": 10})),
        )
    _sign_in_as_dana(driver, page_url)

    # Asked above everything the assistant knows, with what suggested it; not yet in the prompt.
    question = _wait(lambda: driver.find_element(By.CSS_SELECTOR, "li.memory-question[data-key='children']"), "Q")
    assert QUESTION in question.text and BECAUSE in question.text
    titles = [h.text.split("\n")[0] for h in driver.find_elements(By.CSS_SELECTOR, ".memory-section h2")]
    assert titles[0] == "Questions for you" and titles[-1] == "About you"  # her store-label habit is there already
    assert len(driver.find_elements(By.CSS_SELECTOR, "li.memory[data-key='children']")) == 1  # only the question
    _screenshot(driver, "insight-question-desktop", DESKTOP)
    prompt = _prompt_after_asking(driver, "What milk should I get?")
    assert "## CUSTOMER MEMORY" in prompt and "young children" not in prompt

    # Yes, from the keyboard.
    driver.find_element(By.CSS_SELECTOR, ".tabs a[data-view='memories']").click()
    # The list may be drawn again (the page polls for what the worker learned from the chat): the button is found
    # afresh until one press takes, and pressed once only.
    pressed: list[bool] = []

    def answered_yes() -> bool:
        if not pressed:
            yes = driver.find_element(By.CSS_SELECTOR, "li.memory-question [data-action='answer-yes']")
            assert yes.get_attribute("aria-label") == f"Yes: {QUESTION}"
            yes.send_keys(Keys.ENTER)
            pressed.append(True)
        return "Your assistant now knows" in driver.find_element(By.ID, "status").text

    _wait(answered_yes, "the answer and its announcement")

    def about_you() -> Any:
        card = _card(driver, "children")
        section = card.find_element(By.XPATH, "ancestor::section[1]").get_attribute("aria-labelledby")
        return card.text if section == "section-insights" else None

    card_text = _wait(about_you, "the answer under About you")
    assert "Shopping for young children" in card_text and "You confirmed" in card_text
    assert not driver.find_elements(By.CSS_SELECTOR, "li.memory-question")
    _screenshot(driver, "insight-confirmed-desktop", DESKTOP)

    # The prompt now carries it, saying the shopper confirmed it, under Customer Insights.
    prompt = _prompt_after_asking(driver, "What milk should I get?")
    insights = prompt.split("Customer Insights:\n", 1)[1]
    assert "- context: Shopping for young children (you confirmed) [m" in insights
    with seeded.connect() as conn:
        assert ("children", "confirmed") in [(i.key, i.source) for i in calls.memory_context(conn, DANA).insights]

    problems = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert problems == [], f"the browser reported errors: {problems}"
