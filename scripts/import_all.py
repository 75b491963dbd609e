"""Imports every module of ciudad's seven packages from wherever they are installed.

Run with ``python -I`` from outside the checkout: a module that needs a package not
declared as a runtime dependency, or a data file left out of the wheel, fails here.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

PACKAGES = ["ciudad", "capture", "acquisition", "knowledge", "interoperability", "services",
            "support"]  # fmt: skip
DATA = [("capture", "sample_data/README.md"), ("acquisition", "schemas"),
        ("interoperability", "jsonld/contexts"), ("services", "dashboard_assets")]  # fmt: skip


def main() -> int:
    count = 0
    for name in PACKAGES:
        package = importlib.import_module(name)
        if "site-packages" not in str(package.__file__):
            print(f"{name} was imported from {package.__file__}, not the installed wheel")
            return 1
        for module in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            if not module.name.endswith(".__main__"):  # that one runs the CLI
                importlib.import_module(module.name)
                count += 1
    for name, relative in DATA:
        path = Path(str(importlib.import_module(name).__file__)).parent / relative
        if not path.exists():
            print(f"{path} is missing from the wheel")
            return 1
    print(f"imported {count} modules of {len(PACKAGES)} packages; data files present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
