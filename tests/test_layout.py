"""The layout of the design card and the house style, as a test that fails when it drifts."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

REQUIRED = [
    "manage.py",
    "pyproject.toml",
    "Makefile",
    "README.md",
    ".env.example",
    ".ci/run",
    "config/settings/base.py",
    "config/settings/test.py",
    "config/settings/production.py",
    "config/celery_app.py",
    "config/urls.py",
    "config/wsgi.py",
    "config/checks.py",
    "petition/models.py",
    "petition/services.py",
    "petition/selectors.py",
    "organizing/models/__init__.py",
    "organizing/services.py",
    "organizing/selectors.py",
    "templates/base.html",
    "templates/allauth/layouts/base.html",
    "static/css",
    "static/js",
    "tests/browser",
    "benchmarks/README.md",
    "docs/architecture.md",
    "docs/threat-model.md",
    "docs/operations.md",
]


def test_the_project_has_the_agreed_layout():
    missing = [p for p in REQUIRED if not (ROOT / p).exists()]
    assert not missing


def test_dependencies_are_pinned():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert deps and all("==" in d for d in deps), [d for d in deps if "==" not in d]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert "make test" in (ROOT / "README.md").read_text()
