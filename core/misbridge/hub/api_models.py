"""The API's request and response bodies (pydantic, for FastAPI's OpenAPI description)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Model):
    error: str
    message: str


class HubInfo(Model):
    protocol: int
    version: str
    signing_key: str = Field(description="The hub's Ed25519 webhook signing key, base64")


class Me(Model):
    id: str
    name: str
    permissions: list[str]
    schools: list[str] | None
    public_kid: str | None
    webhook_url: str | None


class PublicKeyIn(Model):
    public_key: str = Field(max_length=64, description="X25519 public key, 32 bytes, base64")


class PublicKeyOut(Model):
    kid: str


class WebhookIn(Model):
    url: str | None = Field(default=None, max_length=2000)


class UserIn(Model):
    name: str = Field(max_length=128)
    permissions: list[str] = Field(max_length=3)
    schools: list[str] | None = Field(default=None, max_length=10_000)
    password: str | None = Field(default=None, min_length=12, max_length=1024)


class UserOut(Model):
    id: str
    name: str
    permissions: list[str]
    schools: list[str] | None


class TokenIn(Model):
    label: str | None = Field(default=None, max_length=200)


class TokenOut(Model):
    id: str
    token: str = Field(description="Shown once; the hub keeps only its digest")


class AgentState(Model):
    model_config = ConfigDict(extra="allow")
    state: str
    last_seen_at: datetime | None
    version: str | None
    kid: str | None


class SchoolIn(Model):
    name: str = Field(max_length=200)
    mis: str = Field(max_length=64)
    urn: str | None = Field(default=None, max_length=32)
    datasets: list[str] | None = Field(default=None, max_length=6)
    runner: str = Field(default="agent", pattern="^(agent|worker)$")
    settings: dict[str, str] | None = Field(default=None, max_length=64)


class SchoolOut(Model):
    id: str
    name: str
    urn: str | None
    mis: str
    datasets: list[str]
    runner: str = "agent"
    agent: AgentState | None = None


class ActivationCodeOut(Model):
    code: str = Field(description="One-time; shown once")
    expires_at: datetime


class ExtractIn(Model):
    datasets: list[str] | None = Field(default=None, max_length=6)


class UploadView(Model):
    size: int
    sha256: str
    received: int
    completed_at: datetime | None
    expires_at: datetime | None
    acknowledged_at: datetime | None
    deleted_at: datetime | None
    deleted_why: str | None


class ExtractOut(Model):
    id: str
    school_id: str
    state: str
    datasets: list[str]
    requested_by: str | None
    recipient_kid: str
    detail: str | None
    summary: dict[str, Any] | None
    error_count: int
    created_at: datetime
    updated_at: datetime
    claimed_at: datetime | None
    finished_at: datetime | None
    upload: UploadView | None
    joined: bool = False


class RunErrorRow(Model):
    dataset: str = Field(max_length=32)
    mis_id: str | None = Field(default=None, max_length=200)
    record_label: str | None = Field(default=None, max_length=300)
    field: str | None = Field(default=None, max_length=128)
    code: str = Field(max_length=64)
    severity: str = Field(max_length=16)
    stage: str = Field(max_length=16)


class RunErrorsIn(Model):
    errors: list[RunErrorRow] = Field(max_length=200_000)
    summary: dict[str, Any] | None = None


class RunErrorsOut(Model):
    stored: int


class RetrievalKeyOut(Model):
    retrieval_key: str = Field(description="Shown once; single retrieval, expires")
    expires_at: datetime
    size: int
    sha256: str
    request_id: str
    school_id: str


class AckIn(Model):
    sha256: str = Field(max_length=64)


class AckOut(Model):
    request_id: str
    state: str
    deleted: bool


class AuditRow(Model):
    id: int
    at: datetime
    actor_kind: str
    actor_id: str | None
    actor_name: str | None
    action: str
    outcome: str
    school_id: str | None
    request_id: str | None
    detail: dict[str, Any] | None


class ActivateIn(Model):
    code: str = Field(max_length=64)
    public_key: str = Field(max_length=64)
    version: str | None = Field(default=None, max_length=64)
    hostname: str | None = Field(default=None, max_length=255)


class SchoolBrief(Model):
    id: str
    name: str
    mis: str


class ActivateOut(Model):
    agent_id: str
    school: SchoolBrief
    sealed_token: str = Field(description="The agent's hub token, HPKE-sealed to its key")
    kid: str


class AgentMe(Model):
    agent_id: str
    school: SchoolOut


class Job(Model):
    request_id: str
    school_id: str
    datasets: list[str]
    recipient_public_key: str
    recipient_kid: str
    requested_by: str
    created_at: datetime


class Jobs(Model):
    jobs: list[Job]


class IntegratorTokenOut(Model):
    token: str = Field(description="Bound to this request, school and datasets; short-lived")
    expires_at: datetime
    request_id: str
    school_id: str
    datasets: list[str]


class ReasonIn(Model):
    reason: str = Field(max_length=2000)


class StatusIn(Model):
    detail: str | None = Field(default=None, max_length=2000)


class UploadIn(Model):
    size: int = Field(gt=0, le=2**62)
    sha256: str = Field(max_length=64)


class UploadStatusOut(Model):
    upload_id: str
    size: int
    sha256: str
    offset: int
    chunk_bytes: int
    complete: bool


class CompleteIn(Model):
    datasets: list[str] = Field(max_length=6)


class PurgeIn(Model):
    confirm: str = Field(max_length=64, description="The school's id, to confirm")


class PurgeCounts(Model):
    uploads: int
    errors: int
    requests: int


class PurgeOut(Model):
    school_id: str
    deleted: PurgeCounts
    at: datetime


class HistoryRow(Model):
    id: str
    state: str
    datasets: list[str]
    requested_by: str | None
    created_at: datetime
    finished_at: datetime | None
    size: int | None
    acknowledged_at: datetime | None


class History(Model):
    requests: list[HistoryRow]


class ScheduleIn(Model):
    name: str = Field(max_length=128)
    user: str = Field(max_length=128, description="The user the extracts are started as")
    schools: list[str] = Field(min_length=1, max_length=10000)
    window: str = Field(pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$", examples=["01:00-05:00"])
    datasets: list[str] | None = Field(default=None, max_length=6)
