"""API input and output for people. Sensitive fields leave masked unless revealed."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.people.identity import IdNumberError, normalise_mobile, parse_id_number


class PersonCreate(BaseModel):
    """Register a person at a unit."""

    model_config = ConfigDict(strict=True, extra="forbid")

    unit_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=200)

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return parse_id_number(value).value
        except IdNumberError as error:
            raise ValueError(f"resident ID {error}") from error

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        return None if value is None else normalise_mobile(value)


class PersonRead(BaseModel):
    """A person, with ID number, phone and address masked."""

    id: int
    unit_id: int
    name: str
    id_number: str | None
    phone: str | None
    address: str | None
    created_at: datetime


SensitivePersonField = Literal["id_number", "phone", "address"]


class RevealRequest(BaseModel):
    """Ask to see sensitive fields in clear; the reason goes to the audit trail."""

    model_config = ConfigDict(strict=True, extra="forbid")

    fields: list[SensitivePersonField] = Field(min_length=1, max_length=3)
    reason: str = Field(min_length=4, max_length=500)


class Revealed(BaseModel):
    """The requested fields in clear."""

    id: int
    values: dict[str, str | None]
