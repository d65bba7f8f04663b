"""Settings, read from the environment and `.env` (every one is documented in `.env.example`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# worker/config.py -> the repository root, where supabase/ and standin/ live.
PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Supabase (PostgREST and Realtime). Unset: the worker uses the direct database connection only.
    supabase_url: str | None = Field(default=None, validation_alias="SUPABASE_URL")
    supabase_anon_key: SecretStr | None = Field(default=None, validation_alias="SUPABASE_ANON_KEY")
    supabase_service_role_key: SecretStr | None = Field(default=None, validation_alias="SUPABASE_SERVICE_ROLE_KEY")
    # The project's legacy JWT secret (HS256). Unset: `serve` verifies access tokens with the project's JWKS only.
    supabase_jwt_secret: SecretStr | None = Field(default=None, validation_alias="SUPABASE_JWT_SECRET")

    # Direct connection, as `postgres` (Supabase: the session pooler or direct URL). Unset: the embedded default.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")

    # `serve` without SUPABASE_URL: the database it reads memories from, as a role with no privileges of its own
    # (like PostgREST's authenticator). Unset: the embedded default, as `authenticator`.
    serve_database_url: str | None = Field(default=None, validation_alias="CMS_SERVE_DATABASE_URL")

    # The embedded default: where the local cluster lives and which server binaries run it.
    data_dir: Path = Field(default=PROJECT_DIR / ".local" / "postgres", validation_alias="CMS_DATA_DIR")
    pg_bin: Path | None = Field(default=None, validation_alias="CMS_PG_BIN")
    grant_regime: Literal["current", "legacy"] = Field(default="current", validation_alias="CMS_GRANT_REGIME")

    # Claude, for extracting stated preferences and for the chat path. Unset: deterministic extractor, no chat.
    anthropic_api_key: SecretStr | None = Field(default=None, validation_alias="ANTHROPIC_API_KEY")
    anthropic_model: str = Field(default="claude-sonnet-4-6", validation_alias="CMS_ANTHROPIC_MODEL")

    # Worker tuning.
    worker_concurrency: int = Field(default=4, ge=1, le=64, validation_alias="CMS_WORKER_CONCURRENCY")
    sweep_interval_seconds: float = Field(default=30.0, gt=0, validation_alias="CMS_SWEEP_INTERVAL_SECONDS")
    job_lease_seconds: int = Field(default=60, ge=5, validation_alias="CMS_JOB_LEASE_SECONDS")
    job_max_attempts: int = Field(default=5, ge=1, validation_alias="CMS_JOB_MAX_ATTEMPTS")
    # A shopper who never pauses (their pending job always locked by an event in flight) is still recomputed at
    # least this often: a claim waits for the lock of a job pending this long.
    busy_shopper_seconds: int = Field(default=10, ge=1, le=3600, validation_alias="CMS_BUSY_SHOPPER_SECONDS")
    # Maintenance (retention, the precomputed documents) runs in slices of about this long, so a shopper's job that
    # becomes due waits at most one slice for a free slot.
    maintenance_slice_seconds: float = Field(default=1.0, gt=0, le=60, validation_alias="CMS_MAINTENANCE_SLICE_SECONDS")
    shutdown_timeout_seconds: float = Field(default=20.0, gt=0, validation_alias="CMS_SHUTDOWN_TIMEOUT_SECONDS")
    # A message the extractor has not read in this time is recorded as unreadable and skipped.
    extract_timeout_seconds: float = Field(default=10.0, gt=0, validation_alias="CMS_EXTRACT_TIMEOUT_SECONDS")
    # `worker --once` gives up (exit status 2) when the database stays unreachable this long.
    database_wait_seconds: float = Field(default=30.0, gt=0, validation_alias="CMS_DATABASE_WAIT_SECONDS")
    retention_months: int = Field(default=12, ge=1, validation_alias="CMS_RETENTION_MONTHS")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", validation_alias="CMS_LOG_LEVEL")
