"""deploy/Dockerfile and deploy/compose.yaml (not run here: no container runtime). Parsed
and checked for what the deployment needs; `docker compose config` is not available."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def test_compose_parses_and_has_the_whole_stack():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert set(services) == {"db", "redis", "web", "worker", "beat", "caddy"}
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["env_file"] == "countersign.env"
        assert service["restart"] == "on-failure"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert "umask 0027" in " ".join(service["command"])
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "worker" in services["worker"]["command"][-1]
    assert "beat" in services["beat"]["command"][-1]
    # Only the proxy is reachable from outside.
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"caddy"}
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["caddy"]["volumes"]
    assert "noeviction" in services["redis"]["command"]
    assert set(compose["volumes"]) >= {"pgdata", "redisdata", "media"}


def test_the_dockerfile_installs_without_dev_extras_and_runs_as_the_service_user():
    text = DOCKERFILE.read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert lines[0].startswith("#") and any(line.startswith("FROM python:3.11") for line in lines)
    assert "RUN pip install ." in lines
    assert "[dev]" not in text
    assert "USER countersign" in lines
    assert "collectstatic --noinput" in text and "compilemessages" in text
    # Each logical line (continuations joined) is a Dockerfile instruction.
    joined = [
        line.strip()
        for line in text.replace("\\\n", " ").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    known = {"FROM", "ENV", "RUN", "WORKDIR", "COPY", "USER", "EXPOSE", "CMD"}
    assert {line.split()[0] for line in joined} <= known, joined


def test_the_build_context_leaves_out_the_local_environment():
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".venv", "node_modules", "var", ".git", ".env"} <= set(ignored)
