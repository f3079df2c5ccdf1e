"""Name registries for components, with provenance, qualified names and pattern lookup.

Lookup grammar (used by ``--proxies`` and friends): a comma-separated list of terms.
``all`` (or ``*``) selects everything; a glob (``syn*``) selects every match; a name or a
qualified ``plugin:name`` selects one component; a term prefixed with ``-`` or ``!``
removes its matches from what the terms before it selected. Results keep the order of
the terms, and names sort naturally inside a glob.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from zsbench.errors import AmbiguousComponentError, UnknownComponentError, UsageError

T = TypeVar("T")

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered component and where it came from."""

    name: str
    obj: T
    plugin: str
    distribution: str
    version: str

    @property
    def qualified_name(self) -> str:
        """``plugin:name``, unique even when two plugins provide the same name."""
        return f"{self.plugin}:{self.name}"


def _natural_key(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


class Registry(Generic[T]):
    """Components of one kind (proxies, spaces, metrics or benchmarks), keyed by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: list[Entry[T]] = []

    def add(self, name: str, obj: T, plugin: str, distribution: str, version: str) -> None:
        """Add a component; the same object from the same plugin twice is a no-op."""
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ValueError(f"invalid {self.kind} name {name!r}: use letters, digits, '_', '-' or '.'")
        for entry in self._entries:
            if entry.name == name and entry.plugin == plugin:
                if entry.obj is obj or type(entry.obj) is type(obj):
                    return
                raise ValueError(f"plugin {plugin!r} registers two different {self.kind}s named {name!r}")
        self._entries.append(Entry(name, obj, plugin, distribution, version))

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(sorted(self._entries, key=lambda e: (_natural_key(e.name), e.plugin)))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        return any(e.name == name or e.qualified_name == name for e in self._entries)

    def names(self) -> list[str]:
        """Sorted distinct component names."""
        return sorted({e.name for e in self._entries}, key=_natural_key)

    def conflicts(self) -> dict[str, list[Entry[T]]]:
        """Names provided by more than one plugin."""
        by_name: dict[str, list[Entry[T]]] = {}
        for entry in self:
            by_name.setdefault(entry.name, []).append(entry)
        return {name: entries for name, entries in by_name.items() if len(entries) > 1}

    def entry(self, name: str) -> Entry[T]:
        """The entry for a bare or qualified name.

        Raises:
            UnknownComponentError: nothing matches; the message lists the closest names.
            AmbiguousComponentError: two plugins provide the bare name; the message names both.
        """
        if ":" in name:
            for entry in self._entries:
                if entry.qualified_name == name:
                    return entry
            raise UnknownComponentError(self._unknown_message(name))
        matches = [e for e in self if e.name == name]
        if not matches:
            raise UnknownComponentError(self._unknown_message(name))
        if len(matches) > 1:
            providers = ", ".join(f"{e.qualified_name} ({e.distribution} {e.version})" for e in matches)
            raise AmbiguousComponentError(
                f"{self.kind} {name!r} is provided by several plugins: {providers}; "
                f"name one of them as plugin:{name}"
            )
        return matches[0]

    def get(self, name: str) -> T:
        """The component for a bare or qualified name (see :meth:`entry`)."""
        return self.entry(name).obj

    def select(self, spec: str | Sequence[str] | None) -> list[T]:
        """Components selected by a lookup spec (see the module docstring)."""
        return [e.obj for e in self.select_entries(spec)]

    def select_entries(self, spec: str | Sequence[str] | None) -> list[Entry[T]]:
        """Entries selected by a lookup spec (see the module docstring)."""
        terms = _split_terms(spec)
        if not terms:
            raise UsageError(f"no {self.kind} named: give a name, a comma list, a glob or 'all'")
        if all(t[0] in "-!" for t in terms):
            terms = ["all", *terms]  # "-grasp" alone means "all but grasp"
        chosen: list[Entry[T]] = []
        for term in terms:
            exclude = term[0] in "-!"
            pattern = term[1:] if exclude else term
            if not pattern:
                raise UsageError(f"empty {self.kind} name in {','.join(terms)!r}")
            matched = self._match(pattern)
            if exclude:
                dropped = {id(e) for e in matched}
                chosen = [e for e in chosen if id(e) not in dropped]
            else:
                chosen.extend(e for e in matched if all(e is not c for c in chosen))
        return chosen

    def _match(self, pattern: str) -> list[Entry[T]]:
        if pattern in ("all", "*"):
            ambiguous = self.conflicts()
            if ambiguous:
                first = next(iter(ambiguous))
                self.entry(first)  # raises the ambiguity error naming both providers
            return list(self)
        if any(ch in pattern for ch in "*?["):
            matched = [
                e for e in self if fnmatch.fnmatchcase(e.name, pattern) or fnmatch.fnmatchcase(e.qualified_name, pattern)
            ]
            if not matched:
                raise UnknownComponentError(f"no {self.kind} matches {pattern!r}; installed: {', '.join(self.names()) or 'none'}")
            return matched
        return [self.entry(pattern)]

    def _unknown_message(self, name: str) -> str:
        candidates = [e.qualified_name for e in self._entries] if ":" in name else self.names()
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        listing = ", ".join(self.names()) or "none installed"
        return f"Unknown {self.kind} {name!r}.{hint} Known: {listing}."


def _split_terms(spec: str | Sequence[str] | None) -> list[str]:
    if spec is None:
        return []
    items: Iterable[str] = [spec] if isinstance(spec, str) else spec
    terms: list[str] = []
    for item in items:
        terms.extend(t.strip() for t in str(item).split(",") if t.strip())
    return terms
