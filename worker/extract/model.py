"""What an extractor may return: validated here, before anything reaches the database."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

PreferenceType = Literal["dietary", "allergy", "dislike", "favorite", "brand"]
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


class Statements(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statements: list[Statement] = Field(default_factory=list, max_length=MAX_STATEMENTS)


class Extractor(Protocol):
    """Reads one message; returns what it states and the name of the extractor that read it."""

    name: str

    def extract(self, message: str) -> tuple[list[Statement], str]: ...
