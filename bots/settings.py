"""Settings from the environment and `.env` (see the configuration table in docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_FILE = "interviewbot.db"  # the default SQLite database, inside the data directory


class Settings(BaseSettings):
    """Every variable interviewbot reads. Names are the environment variable names."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # empty: SQLite in the data directory, sqlite:///<data dir>/interviewbot.db
    database_url: str = Field("", alias="DATABASE_URL")
    # every local file (database, media) lives here; made absolute when read
    data_dir: Path = Field(Path("./data"), alias="INTERVIEWBOT_DATA_DIR")
    scripts: Path | None = Field(None, alias="INTERVIEWBOT_SCRIPTS")
    http_port: int = Field(8080, alias="INTERVIEWBOT_HTTP_PORT")
    log_level: str = Field("INFO", alias="INTERVIEWBOT_LOG_LEVEL")
    transcribe: bool = Field(False, alias="INTERVIEWBOT_TRANSCRIBE")
    # a local faster-whisper (CTranslate2) model folder: multilingual transcripts; docs/languages.md
    transcribe_model: Path | None = Field(None, alias="INTERVIEWBOT_TRANSCRIBE_MODEL")
    # Media also in an S3-compatible bucket (s3://bucket/prefix); credentials from the usual
    # boto3 chain (AWS_ACCESS_KEY_ID... in the environment, a profile, an instance role).
    media_s3_url: str | None = Field(None, alias="INTERVIEWBOT_MEDIA_S3_URL")
    media_s3_endpoint: str | None = Field(None, alias="INTERVIEWBOT_MEDIA_S3_ENDPOINT")
    # seconds after which committed messages not yet sent are sent by the outbox sweep
    outbox_retry: float = Field(30.0, alias="INTERVIEWBOT_OUTBOX_RETRY", gt=0)

    # outgoing webhooks (Standard Webhooks); see docs/webhooks.md
    webhook_url: str | None = Field(None, alias="INTERVIEWBOT_WEBHOOK_URL")
    webhook_secret: str | None = Field(None, alias="INTERVIEWBOT_WEBHOOK_SECRET")
    webhook_retry: float = Field(5.0, alias="INTERVIEWBOT_WEBHOOK_RETRY", gt=0)  # first backoff
    # hiring managers who may invite from chat ("slack:U…,telegram:123")
    admins: str = Field("", alias="INTERVIEWBOT_ADMINS")

    telegram_bot_token: str | None = Field(None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field("https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    telegram_file_url: str = Field("https://api.telegram.org/file/bot", alias="TELEGRAM_FILE_URL")
    telegram_webhook_url: str | None = Field(None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: str | None = Field(None, alias="TELEGRAM_WEBHOOK_SECRET")
    # processes sending with one bot token (scale-out): each paces to its share of 30/s
    telegram_processes: int = Field(1, alias="TELEGRAM_PROCESSES", ge=1)

    slack_bot_token: str | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        """Resolve every path once, so that no later step depends on the current folder."""
        self.data_dir = self.data_dir.expanduser().absolute()
        if self.scripts is not None:
            self.scripts = self.scripts.expanduser().absolute()
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / DATABASE_FILE}"
        elif self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            path = Path(self.database_url.removeprefix("sqlite:///")).expanduser()
            self.database_url = f"sqlite:///{path.absolute()}"
        return self

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the database is SQLite (None for PostgreSQL)."""
        if self.database_url.startswith("sqlite:///") and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix("sqlite:///"))
        return None

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def has_chat_channels(self) -> bool:
        """Whether any registered channel is enabled (else `run` starts the console)."""
        from bots.channels import declarations

        return any(d.make is not None and d.enabled(self) for d in declarations())
