"""The apps depend on each other one way: each on those below it, never on one above.

``accounts`` (who) <- ``tickets`` (what happened) <- ``routing`` (the rules engine) <- the apps
that react to routing. A module importing an app above its own would close a circle; this test
reads every module's imports (including those inside functions) and names the offenders.
``helpdesk`` holds both the wiring (URLs, the start page, Celery, settings), which may import
every app, and small shared utilities every app may import, which import no app.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each app may import the apps of lower layers only.
LAYERS = {
    "accounts": 0,
    "tickets": 1,
    "routing": 2,
    "deliveries": 3,
    "conversations": 4,
    "queues": 5,
    "surveys": 6,
    "portal": 7,
    "customers": 8,
    "demo": 9,
    # Read everything; nothing depends on them (demo included), nor does one on the other.
    "insights": 10,
    "monitoring": 10,
}
HELPDESK_WIRING = {"urls", "api_urls", "views", "celery", "settings", "wsgi", "asgi"}


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & (set(LAYERS) | {"helpdesk"})


def _modules(package: str):
    return sorted((ROOT / package).rglob("*.py"))


def test_every_app_of_the_project_has_a_layer():
    apps = {
        path.parent.name for path in ROOT.glob("*/apps.py") if not path.parent.name.startswith(".")
    }
    assert apps == {app for app in LAYERS if (ROOT / app).is_dir()}


@pytest.mark.parametrize("app", [app for app in LAYERS if (ROOT / app).is_dir()])
def test_an_app_imports_only_apps_below_it(app):
    offenders = []
    for path in _modules(app):
        for imported in _imported_apps(path) - {"helpdesk", app}:
            if LAYERS[imported] > LAYERS[app]:
                offenders.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert offenders == []


def test_shared_helpdesk_modules_import_no_app():
    offenders = [
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(imported))}"
        for path in _modules("helpdesk")
        if path.stem not in HELPDESK_WIRING and (imported := _imported_apps(path) - {"helpdesk"})
    ]
    assert offenders == []
