"""``misbridge plugin new NAME``: a new MIS plugin package that works from the start.

The package is written from the templates in ``template/`` (package data, filled in with
:class:`string.Template`: no templating dependency for a school's machine; see
docs/decisions/120-plugin-api.md). It installs with ``pip install -e .``, registers
under the ``misbridge`` entry-point group, and passes misbridge's conformance suite
against its own simulator straight away; the author then replaces the simulator's wire
format with the vendor's, field by field, keeping the suite green.
"""

from __future__ import annotations

import keyword
import re
from importlib import resources
from pathlib import Path
from string import Template

from misbridge._version import __version__
from misbridge.errors import ConfigurationError

__all__ = ["FILES", "new_plugin", "plugin_names"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,30}$")

#: Template -> where it goes in the new package (``$module`` is the import name).
FILES: dict[str, str] = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "src/$module/__init__.py",
    "settings.py.tmpl": "src/$module/settings.py",
    "session.py.tmpl": "src/$module/session.py",
    "mapping.py.tmpl": "src/$module/mapping.py",
    "simulator.py.tmpl": "src/$module/simulator.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
}


def plugin_names(name: str, title: str | None = None) -> dict[str, str]:
    """The names a template uses for the MIS ``name``."""
    if not _NAME.match(name) or keyword.iskeyword(name):
        raise ConfigurationError(
            f"{name!r} cannot name an MIS plugin: use 2 to 31 lower-case letters, digits "
            "and '_', starting with a letter (it is the MIS name on the command line and "
            "in the store)",
            setting="name",
        )
    words = name.split("_")
    return {
        "name": name,
        "module": f"misbridge_{name}",
        "Class": "".join(w.capitalize() for w in words),
        "title": title or " ".join(w.capitalize() for w in words) + " MIS",
        "ENV": name.upper(),
        "core_version": __version__,
    }


def new_plugin(name: str, folder: Path, *, title: str | None = None) -> Path:
    """Write the package for ``name`` into ``folder/misbridge-<name>``; return that path.

    :raises ConfigurationError: the name is not a usable MIS name, or the target exists.
    """
    names = plugin_names(name, title)
    target = folder / f"misbridge-{name.replace('_', '-')}"
    if target.exists():
        raise ConfigurationError(
            f"{target} already exists: choose another folder or remove it first",
            path=str(target),
        )
    templates = resources.files("misbridge.scaffold") / "template"
    for source, destination in FILES.items():
        text = Template((templates / source).read_text(encoding="utf-8")).substitute(names)
        path = target / Template(destination).substitute(names)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target
