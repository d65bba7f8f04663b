"""What an extractor may return: validated here, before anything reaches the database."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

PreferenceType = Literal["dietary", "allergy", "dislike", "favorite", "brand"]


class Statement(BaseModel):
    """One thing the shopper stated: remember a preference, or forget one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["remember", "forget"]
    preference_type: PreferenceType
    preference_key: str = Field(min_length=1, max_length=255)
    preference_value: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=1000)

    @field_validator("preference_key")
    @classmethod
    def _key_is_text(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("preference_key must not be blank")
        return value


class Statements(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statements: list[Statement] = Field(default_factory=list, max_length=20)


class Extractor(Protocol):
    """Reads one message; returns what it states and the name of the extractor that read it."""

    name: str

    def extract(self, message: str) -> tuple[list[Statement], str]: ...
