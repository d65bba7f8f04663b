"""What an extractor may return: validated here, before anything reaches the database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from worker.client.models import InsightType, PreferenceType

MAX_STATEMENTS = 20  # per message, as worker_apply_stated_preferences accepts


class Statement(BaseModel):
    """One thing the shopper stated: remember a preference, or forget one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["remember", "forget"]
    preference_type: PreferenceType
    preference_key: str = Field(min_length=1, max_length=255)
    preference_value: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=1000)
    # Who in the shopper's household it is about ("son"); None: the shopper. Only allergies are kept for the
    # household: the shopper buys for everyone at home, so a child's peanut allergy matters to every basket.
    household_member: str | None = Field(default=None, max_length=40, pattern=r"^[a-z][a-z -]*$")

    @field_validator("household_member", mode="before")
    @classmethod
    def _member_is_a_word(cls, value: object) -> object:
        return value.strip().lower() or None if isinstance(value, str) else value

    @field_validator("preference_key")
    @classmethod
    def _key_is_text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("preference_key must not be blank")
        return value


class InsightStatement(BaseModel):
    """Who the shopper is, as they said it: their household, a goal, a constraint (memory_insights). "forget": it no
    longer holds ("the dog died"); the database ends it, it deletes nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["remember", "forget"]
    insight_type: InsightType
    insight_key: str = Field(max_length=64, pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    insight_value: str | None = Field(default=None, max_length=200)  # the insight in words; required to remember
    details: dict[str, Any] | None = None  # figures: {"count": 2, "ages": [4, 7]}, {"amount": 100, "period": "week"}
    expires_at: datetime | None = None  # a time-bound statement ("this month I'm doing keto")

    @model_validator(mode="after")
    def _said_in_words(self) -> InsightStatement:
        if self.action == "remember" and not (self.insight_value or "").strip():
            raise ValueError("insight_value must say the insight in words")
        if self.details is not None and len(json.dumps(self.details)) > 1000:
            raise ValueError("details must be at most 1000 characters of JSON")
        return self


Said = Statement | InsightStatement


class Statements(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statements: list[Said] = Field(default_factory=list, max_length=MAX_STATEMENTS)


class Extractor(Protocol):
    """Reads one message; returns what it states and the name of the extractor that read it."""

    name: str

    def extract(self, message: str) -> tuple[list[Said], str]: ...
