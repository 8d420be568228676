"""deploy/ read statically: every setting documented and passed, compose and Dockerfile sane."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE_SET = {"DATABASE_URL", "INTERVIEWBOT_DATA_DIR", "INTERVIEWBOT_HTTP_PORT"}


def variables() -> list[str]:
    names = [field.alias for field in Settings.model_fields.values()]
    assert all(names) and len(names) >= 15
    return [name for name in names if name]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def dockerfile() -> list[str]:
    """Instructions, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (DEPLOY / "Dockerfile").read_text())
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("name", variables())
def test_every_setting_is_in_env_example_with_a_comment(name: str) -> None:
    lines = (DEPLOY / ".env.example").read_text().splitlines()
    found = [i for i, line in enumerate(lines) if re.fullmatch(rf"#? ?{name}=.*", line)]
    assert len(found) == 1, f"{name} should appear once as NAME= or # NAME="
    assert lines[found[0] - 1].startswith("# "), f"{name} needs a comment line above it"


@pytest.mark.parametrize("name", variables())
def test_every_setting_reaches_the_bot_container(name: str) -> None:
    bot = compose()["services"]["bot"]
    assert name in (DEPLOY / "compose.yaml").read_text()
    if name in COMPOSE_SET:
        assert name in bot["environment"]
    else:  # passed through from .env
        assert bot["env_file"] == ".env"
        assert name not in bot["environment"]


def test_env_example_sets_nothing_that_would_override_defaults_with_blanks() -> None:
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert name.endswith(("_TOKEN", "PASSWORD")) or value, line


def test_compose_has_bot_and_postgres_with_health_checks_and_volumes() -> None:
    data = compose()
    services = data["services"]
    assert set(services) >= {"bot", "postgres"}
    bot, db = services["bot"], services["postgres"]
    assert db["image"] == "postgres:16"
    assert bot["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(bot["healthcheck"]["test"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    url = bot["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql://") and "@postgres:5432/" in url
    assert "${POSTGRES_PASSWORD:?" in db["environment"]["POSTGRES_PASSWORD"]
    volumes = data["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in db["volumes"]
    assert "pgdata" in volumes and "media" in volumes
    data_dir = bot["environment"]["INTERVIEWBOT_DATA_DIR"]
    assert f"media:{data_dir}" in bot["volumes"]
    assert bot["ports"] == ["127.0.0.1:8080:8080"]


def test_dockerfile_runs_the_package_as_a_non_root_user_with_a_health_check() -> None:
    lines = dockerfile()
    assert lines[0] == "FROM python:3.11-slim"
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and all(not u.startswith(("root", "0")) for u in users)
    assert any(line.startswith("RUN pip install .") for line in lines)
    health = [line for line in lines if line.startswith("HEALTHCHECK ")]
    assert len(health) == 1 and "/healthz" in health[0] and "CMD" in health[0]
    assert 'ENTRYPOINT ["interviewbot"]' in lines and 'CMD ["run"]' in lines
    assert "EXPOSE 8080" in lines
    # USER comes after the install and before the entry point
    index = {line.split()[0]: i for i, line in enumerate(lines)}
    assert index["RUN"] < index["USER"] < index["ENTRYPOINT"]
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    sources = [src for line in lines if line.startswith("COPY ") for src in line.split()[1:-1]]
    assert sources and all(f"!{src}" in ignore or f"!{src}/" in ignore for src in sources)


def test_systemd_unit_runs_hardened_as_a_dedicated_user() -> None:
    unit: dict[str, list[str]] = {}
    for line in (DEPLOY / "interviewbot.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            unit.setdefault(key, []).append(value)
    assert unit["User"] == ["interviewbot"] and unit["Group"] == ["interviewbot"]
    assert unit["EnvironmentFile"] == ["/etc/interviewbot/interviewbot.env"]
    assert unit["ExecStart"] == ["/opt/interviewbot/bin/interviewbot run"]
    assert unit["Restart"] == ["on-failure"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict",
                       "ProtectHome": "yes", "PrivateTmp": "yes", "StateDirectory": "interviewbot",
                       "CapabilityBoundingSet": ""}.items():
        assert unit[key] == [value], key
    assert unit["WantedBy"] == ["multi-user.target"]


def test_botfather_steps_list_the_bots_commands() -> None:
    text = (DEPLOY / "BOTFATHER.md").read_text()
    block = text.split("```text\n", 1)[1].split("```", 1)[0]
    from bots.telegram.channel import COMMANDS

    assert block.splitlines() == [f"{c.command} - {c.description}" for c in COMMANDS]
    for step in ("/newbot", "/setcommands", "/setprivacy", "/setjoingroups", "TELEGRAM_BOT_TOKEN"):
        assert step in text
