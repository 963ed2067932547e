"""Build hook: ship the repository's templates/ and migrations/ inside the wheel.

They stay at the top of the repository (the project's layout); a built package gets a copy
of each as portal/_bundled/templates and portal/_bundled/migrations, which
portal/resources.py uses when the package is not running from a checkout. Everything else
about the build is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ("templates", "migrations")
TARGET = Path("portal", "_bundled")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")


def bundled_files() -> list[Path]:
    """Every file that goes into the package from the top-level folders (relative to ROOT)."""
    files: list[Path] = []
    for name in BUNDLED:
        folder = ROOT / name
        if not folder.is_dir():
            raise SystemExit(f"setup.py: {folder} is missing; cannot build the portal package.")
        files += sorted(p.relative_to(ROOT) for p in folder.rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts
                        and p.suffix not in (".pyc", ".pyo"))
    return files


class build_py_with_bundled(build_py):  # noqa: N801 (a setuptools command class)
    """build_py, then copy templates/ and migrations/ into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install uses the checkout's folders directly
        for name in BUNDLED:
            target = Path(self.build_lib) / TARGET / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(ROOT / name, target, ignore=SKIP)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            outputs += [str(Path(self.build_lib) / TARGET / Path(*p.parts))
                        for p in bundled_files()]
        return outputs

    def get_source_files(self) -> list[str]:
        """Also what an sdist needs to build the wheel again (python -m build)."""
        return list(super().get_source_files()) + [p.as_posix() for p in bundled_files()]


setup(cmdclass={"build_py": build_py_with_bundled})
