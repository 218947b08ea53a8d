"""The layout of the design card and the house style, as a test that fails when it drifts."""

import ast
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


# Every module says what lives in it (house style), so a newcomer finds things by reading the
# first lines. Migrations are generated, and an empty __init__.py only marks a package.
DOCUMENTED_PACKAGES = ("config", "petition", "organizing", "scripts", "benchmarks")


def modules_without_docstring(root: Path, packages: tuple[str, ...]) -> list[str]:
    """The modules under `packages` of `root` whose source has no module docstring."""
    missing = []
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            source = path.read_text()
            if path.name == "__init__.py" and not source.strip():
                continue
            if ast.get_docstring(ast.parse(source)) is None:
                missing.append(path.relative_to(root).as_posix())
    return missing


def test_every_module_has_a_docstring():
    assert modules_without_docstring(ROOT, DOCUMENTED_PACKAGES) == []


def test_the_docstring_check_names_a_module_without_one(tmp_path):
    (tmp_path / "app" / "migrations").mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "documented.py").write_text('"""Where the widgets live."""\nX = 1\n')
    (tmp_path / "app" / "bare.py").write_text("# a comment is not a docstring\nX = 1\n")
    (tmp_path / "app" / "late.py").write_text('X = 1\n"""A string after code is not one."""\n')
    (tmp_path / "app" / "migrations" / "0001_initial.py").write_text("X = 1\n")
    assert modules_without_docstring(tmp_path, ("app",)) == ["app/bare.py", "app/late.py"]


# A template nothing names is dead weight a newcomer reads and edits for nothing. A template
# is in use when its path under templates/ appears in the code, another template or a test.
TEMPLATE_READERS = (
    "config",
    "petition",
    "organizing",
    "templates",
    "tests",
    "scripts",
    "benchmarks",
)
# Folders whose templates are loaded by a name built at run time: the prefix, then a name the
# code spells as a string of its own ("digest", "poster"), then an ending.
LOADED_BY_NAME = {
    # organizing/tasks.py, petition/tasks.py, the notice mails: `emails/<name>.txt` with
    # `emails/<name>_subject.txt`.
    "emails/": ("_subject.txt", ".txt"),
    # organizing/flyers/designs.py: `Design.template` is `organizing/flyers/designs/<name>.html`.
    "organizing/flyers/designs/": (".html",),
}
# Folders of templates that override django-allauth's own: allauth loads them by its names.
OVERRIDES = ("allauth/", "account/", "mfa/", "socialaccount/")
# Error pages Django's default handlers load by these names (should config/urls.py stop naming
# the handlers of config/errors.py): in use even where no string names them.
BY_CONVENTION = {"403.html", "404.html", "500.html"}


def unreferenced_templates(root: Path) -> list[str]:
    """The templates under `root`/templates that no code, template or test names."""
    templates = sorted(
        p.relative_to(root / "templates").as_posix()
        for p in (root / "templates").rglob("*")
        if p.is_file()
    )
    texts = {
        path: path.read_text()
        for folder in TEMPLATE_READERS
        for pattern in ("*.py", "*.html", "*.txt")
        for path in (root / folder).rglob(pattern)
        if path.is_file()
    }
    python = "\n".join(text for path, text in texts.items() if path.suffix == ".py")
    unused = []
    for name in templates:
        if name in BY_CONVENTION or name.startswith(OVERRIDES):
            continue
        own = root / "templates" / name
        if any(name in text for path, text in texts.items() if path != own):
            continue
        prefix = next((p for p in LOADED_BY_NAME if name.startswith(p)), None)
        if prefix is not None:
            rest = name.removeprefix(prefix)
            ending = next((e for e in LOADED_BY_NAME[prefix] if rest.endswith(e)), None)
            stem = rest.removesuffix(ending) if ending else None
            if stem and "/" not in stem and (f'"{stem}"' in python or f"'{stem}'" in python):
                continue
        unused.append(name)
    return unused


def test_every_template_is_used():
    assert unreferenced_templates(ROOT) == []


def test_the_template_check_names_a_template_nothing_uses(tmp_path):
    for name, text in {
        "templates/base.html": "",
        "templates/500.html": "",
        "templates/page.html": '{% extends "base.html" %}',
        "templates/forgotten.html": "{# templates/forgotten.html is named only here #}",
        "templates/account/login.html": "",
        "templates/emails/hello.txt": "",
        "templates/emails/hello_subject.txt": "",
        "templates/emails/gone.txt": "",
        "templates/organizing/flyers/designs/poster.html": "",
        "petition/views.py": 'render(request, "page.html")\nsend("hello")\nDESIGNS = {"poster": 0}',
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert unreferenced_templates(tmp_path) == ["emails/gone.txt", "forgotten.html"]
