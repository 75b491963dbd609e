"""The code's shape that reviews rely on: helpers apart from tests, small modules."""

from __future__ import annotations

import ast
import importlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ciudad", "capture", "acquisition", "knowledge", "interoperability", "services",
            "support")  # fmt: skip


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_no_module_imports_a_test_module() -> None:
    """Shared test code lives in tests/helpers/ or a conftest.py, never in a test_*.py."""
    offenders = []
    for path in python_files("tests", "hil_tests", "bench"):
        for node in ast.walk(ast.parse(path.read_text())):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.rsplit(".", 1)[-1].startswith("test_"):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_no_module_is_over_400_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n}"
        for path in python_files(*PACKAGES, "tests", "hil_tests", "bench")
        if (n := len(path.read_text().splitlines())) > 400
    ]
    assert long == []


def test_layers_meet_only_through_each_others_package() -> None:
    """`from knowledge import EntityQuery`, never `from knowledge.query.filters import ...`:
    a layer's submodules are its own business (support, the shared base, excepted)."""
    offenders = []
    for layer in PACKAGES:
        for path in python_files(layer):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                    else [a.name for a in node.names] if isinstance(node, ast.Import) else []
                )  # fmt: skip
                for name in names:
                    top = name.split(".")[0]
                    if top in PACKAGES and top not in (layer, "support") and "." in name:
                        offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []


def test_each_layers_public_surface_is_what_it_was_agreed_to_be() -> None:
    """A change to a layer's ``__all__`` is a change of its interface: make it on purpose,
    here too (tests/unit/public_surface.json)."""
    pinned = json.loads((Path(__file__).parent / "public_surface.json").read_text())
    actual = {layer: sorted(importlib.import_module(layer).__all__) for layer in PACKAGES
              if hasattr(importlib.import_module(layer), "__all__")}  # fmt: skip
    assert {k: v for k, v in pinned.items() if v} == actual
    for layer, names in actual.items():
        module = importlib.import_module(layer)
        assert [n for n in names if not hasattr(module, n)] == [], layer


STORAGE = ("knowledge/postgres/", "acquisition/store/", "interoperability/store/",
           "support/store/")  # fmt: skip


def test_only_storage_subpackages_reach_the_database() -> None:
    """One door per layer: psycopg (and the migration tooling) only in a storage subpackage;
    everything else goes through its owner's interface or support.store.Database."""
    drivers = ("psycopg", "psycopg_pool", "sqlalchemy", "alembic")
    offenders = []
    for path in python_files(*PACKAGES):
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                else [a.name for a in node.names] if isinstance(node, ast.Import) else []
            )  # fmt: skip
            if any(n.split(".")[0] in drivers for n in names) and not relative.startswith(STORAGE):
                offenders.append(relative)
    assert offenders == []
