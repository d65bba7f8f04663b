"""The chat path and the operator commands, on a real database.

The Anthropic API cannot be reached from here, so Claude's side of the chat is a recorded Messages API stream
(tests/recordings/*.sse, server-sent events in the API's streaming format) served by an httpx mock
transport handed to the real anthropic client; everything else (the database, memory_context, the prompt, the
explanation) is real."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import anthropic
import anthropic._base_client
import pytest

from tests.conftest import Database
from tests.context.example_shopper import EMAIL, load_example_shopper
from worker import cli
from worker.commands.chat import chat_turn
from worker.prompt import calls
from worker.prompt.render import render_memory_block

# The HTTP library the installed anthropic package is built on (httpx, or its successor httpx2).
httpx: Any = getattr(anthropic._base_client, "httpx2", None) or anthropic._base_client.httpx


RECORDINGS = Path(__file__).resolve().parents[1] / "recordings"  # a recorded Claude reply: tests only


def _recorded_client(body: str, requests: list[Any]) -> anthropic.Anthropic:
    def handler(request: Any) -> Any:
        requests.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())

    return anthropic.Anthropic(
        api_key="test-key", max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(handler))
    )


@pytest.fixture
def operator_db(db: Database, monkeypatch: pytest.MonkeyPatch) -> UUID:
    """The example shopper in a fresh database that the CLI reaches through DATABASE_URL, as an operator would."""
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
    monkeypatch.setenv("DATABASE_URL", db.url())
    return user_id


def test_chat_streams_claudes_reply_with_the_memory_and_explains_it(db: Database) -> None:
    question = "What milk should I get?"
    with db.connect() as conn:
        user_id = load_example_shopper(conn)
        rendered = render_memory_block(calls.memory_context(conn, user_id, query=question))
        refs = {reference.item.key: ref for ref, reference in rendered.references.items()}
        body = (RECORDINGS / "claude_milk_reply.sse").read_text()
        body = body.replace("{REF_FAVORITE}", f"[{refs['milk-whole-gal']}]")
        body = body.replace("{REF_PATTERN}", f"[{refs['dairy']}]")
        requests: list[Any] = []
        out = io.StringIO()
        history = chat_turn(
            conn, user_id, [], question, client=_recorded_client(body, requests), model="claude-sonnet-4-6", out=out
        )

    [request] = requests
    assert request.url.path == "/v1/messages"
    sent = json.loads(request.content)
    assert sent["stream"] is True and sent["model"] == "claude-sonnet-4-6"
    assert sent["messages"] == [{"role": "user", "content": question}]
    assert "## CUSTOMER MEMORY" in sent["system"] and rendered.text in sent["system"]
    assert "cite it with its reference" in sent["system"]

    printed = out.getvalue()
    assert "I'd get a gallon of lactose-free whole milk" in printed
    assert (
        "I suggested this because you have bought milk whole gal 15 times and you usually buy dairy products."
    ) in printed
    milk = rendered.references[refs["milk-whole-gal"]].item.id
    assert f"View memory details: /memories/{milk}" in printed
    assert history[-1]["role"] == "assistant" and history[-1]["content"].endswith(f"[{refs['dairy']}].")


def test_chat_without_a_key_prints_the_request_it_would_send(
    operator_db: UUID, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert cli.main(["chat", "--user", EMAIL, "--message", "recipes with chicken"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("No model is configured here (ANTHROPIC_API_KEY is not set)")
    assert "this is what it would rely on for “recipes with chicken”" in printed
    assert "- Peanuts [m" in printed and ": you are allergic to peanuts." in printed  # safety first, with why
    assert "The request that would be sent:" in printed
    assert "- vegetarian: Never orders meat products (confidence: 0.95) [m" in printed
    assert "Dietary Restrictions:" not in printed, "an inferred diet is a habit, not a restriction"
    assert '"content": "recipes with chicken"' in printed


def test_operator_commands_act_through_the_shoppers_functions(
    operator_db: UUID, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    user_id = operator_db

    assert cli.main(["context", "--user", EMAIL, "--query", "milk"]) == 0
    block = capsys.readouterr().out
    assert block.startswith("## CUSTOMER MEMORY") and "- milk-whole-gal (purchased 15 times) [m" in block

    assert cli.main(["context", "--user", str(user_id), "--json"]) == 0
    context = json.loads(capsys.readouterr().out)
    avocado = context["dislikes"][0]["id"]

    assert cli.main(["explain", "--user", EMAIL, avocado]) == 0
    assert json.loads(capsys.readouterr().out)["memory"]["memory_key"] == "avocado"

    assert cli.main(["forget", "--user", EMAIL, avocado]) == 0
    assert json.loads(capsys.readouterr().out)["memory_key"] == "avocado"

    exported = tmp_path / "export.json"
    assert cli.main(["export", "--user", EMAIL, "--output", str(exported)]) == 0
    assert capsys.readouterr().err == f"wrote {exported}\n"
    document = json.loads(exported.read_text())
    assert document["format"] == "customer-memory-export" and len(document["preferences"]) == 8
    assert [s["memory_key"] for s in document["suppressions"]] == ["avocado"]

    # A refused call is one line on stderr and exit status 1, and changes nothing.
    assert cli.main(["explain", "--user", EMAIL, avocado]) == 1
    assert capsys.readouterr().err == "error: No memory with that id.\n"
    assert cli.main(["context", "--user", "nobody@example.test"]) == 1
    assert capsys.readouterr().err == "error: No shopper with the id or email 'nobody@example.test'.\n"
    assert cli.main(["context", "--user", EMAIL, "--min-confidence", "1.5"]) == 1
    assert "min_confidence must be a number between 0 and 1" in capsys.readouterr().err

    assert cli.main(["forget", "--user", EMAIL, "--all"]) == 0
    assert json.loads(capsys.readouterr().out)["preferences"] == 8


def test_chat_with_a_key_but_no_claude_reports_it_in_one_line(
    operator_db: UUID, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key is set but the API is unreachable (as here, where there is no network): a clear error, exit 1."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # the discard port: nothing listens
    assert cli.main(["chat", "--user", EMAIL, "--message", "hello"]) == 1
    assert capsys.readouterr().err.startswith("error: Claude could not be reached or refused the request:")
