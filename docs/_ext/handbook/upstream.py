"""Checks that third-party code is still what a patch in patches.py was written for.

A `Patch` names the upstream functions it relies on with a fingerprint of each one's source; `verify`
stops the build with `UpstreamChanged` when one has changed or gone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import inspect
import linecache
from collections.abc import Callable

from sphinx.errors import ExtensionError


class UpstreamChanged(ExtensionError):
    """Code a patch relies on is not what the patch was written for."""


def resolve(name):
    """The function at 'module:qualified.name', e.g. 'sphinx.search:IndexBuilder.load'."""
    module, _, qualname = name.partition(":")
    obj = importlib.import_module(module)
    for attr in qualname.split("."):
        obj = inspect.getattr_static(obj, attr) if inspect.isclass(obj) else getattr(obj, attr)
        if isinstance(obj, classmethod | staticmethod):
            obj = obj.__func__
    return inspect.unwrap(obj)  # the original, if a patch wrapped it


def source_of(function):
    """A function's source lines, from its first line (or decorator) to its last line of code. (Read from
    the line table: inspect.getsource tokenizes, which made this check cost a tenth of a build.)"""
    def last_line(code):
        nested = [last_line(c) for c in code.co_consts if inspect.iscode(c)]
        return max([line for *_, line in code.co_lines() if line is not None] + nested)

    code = function.__code__
    return "".join(linecache.getlines(code.co_filename)[code.co_firstlineno - 1:last_line(code)])


def fingerprint(function):
    """16 hex digits of the SHA-256 of a function's source."""
    return hashlib.sha256(source_of(function).encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Patch:
    name: str
    apply: Callable
    package: str  # the distribution whose code is patched
    written_for: str  # its version when the patch was written
    relies_on: dict[str, str]  # 'module:qualified.name' of upstream code -> its fingerprint
    check: Callable[[], str | None] | None = None  # a further check; returns a problem, or None

    def problems(self):
        """What no longer looks as this patch expects (empty when all is well)."""
        found = []
        for name, expected in self.relies_on.items():
            try:
                actual = fingerprint(resolve(name))
            except (ImportError, AttributeError, TypeError, OSError, ValueError) as err:
                found.append(f"{name} cannot be found or read ({err})")
                continue
            if actual != expected:
                found.append(f"{name} has changed (fingerprint {actual}, patch written for {expected})")
        if self.check is not None and (problem := self.check()):
            found.append(problem)
        return found

    def verify(self):
        found = self.problems()
        if found:
            try:
                installed = importlib.metadata.version(self.package)
            except importlib.metadata.PackageNotFoundError:
                installed = "not installed"
            raise UpstreamChanged(
                f"handbook patch '{self.name}' (docs/_ext/handbook/patches.py) was written for "
                f"{self.package} {self.written_for}; the installed version is {installed}, and the code the "
                "patch relies on is not what it was written for:\n  - " + "\n  - ".join(found) + "\n"
                f"Read the docstring of {self.apply.__name__} in patches.py and the new upstream code: if "
                "upstream fixed the problem, delete the patch; otherwise adapt it, then record the new "
                "fingerprints with patches.print_fingerprints() (see the module's docstring).")
