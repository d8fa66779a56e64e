"""Which recipients cannot differ in whether a notice renders: check one of each group.

Rendering a notice for a million people to find the one row with a missing value costs minutes;
most rows differ only in values that are printed as they are (a name, an address), which cannot
make a render fail once they are present. So the render check groups recipients by what CAN
change the outcome, and renders one person per group:

- for each ``recipient.NAME`` the templates only print (``{{ recipient.NAME }}``, joined with
  ``~``, through filters that cannot fail on text) or test with ``is defined``: whether it is
  present;
- for each one only tested for truth (``{% if recipient.NAME %}``): present, and truthy;
- for every other use (compared, looped over — the ``exposed`` codes — passed to a filter such
  as ``category``, assigned): its value;
- the columns that choose the variant and the language (``locale``, ``region``, ``country``,
  ``timezone``), by value;
- the per-recipient facts beside ``recipient`` (e.g. an offer), by value.

Templates are read from the notice's folder (every ``subject.txt``, ``body.html``, ``body.txt``:
variants and language packs too). A template that uses ``recipient`` any other way (as a whole,
``recipient[expr]``, a name bound to it) or includes, imports or extends another file cannot be
grouped safely: :meth:`RenderGroups.key` then returns None and every recipient is rendered, as
before. Pure: reads template files, renders nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

__all__ = ["CHOOSERS", "RenderGroups"]

PARTS = ("subject.txt", "body.html", "body.txt")
# Columns the notice reads to choose the variant and the language (render/notice.py,
# render/locale.py): always by value.
CHOOSERS = ("locale", "region", "country", "timezone")
# Filters that cannot fail on a present text value, where only printing follows.
_TOTAL_FILTERS = frozenset(
    {"e", "escape", "upper", "lower", "title", "capitalize", "trim", "string", "striptags", "safe"}
)
_PRESENCE_TESTS = frozenset({"defined", "undefined"})
_WHOLE_FILE = (nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)

_PRESENT, _TRUTH, _VALUE = 0, 1, 2  # how much of a value matters, weakest first
_PARSER = jinja2.Environment(autoescape=True)  # parsing only: nothing is rendered with it


class _Unsafe(Exception):
    """A use of ``recipient`` whose outcome cannot be told from the kinds above."""


def _recipient_name(node: nodes.Node) -> str | None:
    """NAME for ``recipient.NAME`` / ``recipient['NAME']``; None for anything else."""
    if (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "recipient"
    ):
        return node.attr
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "recipient"
    ):
        if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            return node.arg.value
        raise _Unsafe
    return None


class _Uses:
    """Walks a template's syntax tree, noting the strongest use of each recipient field."""

    def __init__(self) -> None:
        self.fields: dict[str, int] = {}

    def note(self, name: str, how: int) -> None:
        self.fields[name] = max(how, self.fields.get(name, _PRESENT))

    def walk(self, node: nodes.Node, how: int) -> None:
        name = _recipient_name(node)
        if name is not None:
            self.note(name, how)
            return
        if isinstance(node, _WHOLE_FILE):
            raise _Unsafe
        if isinstance(node, nodes.Name) and node.name == "recipient":
            raise _Unsafe  # the whole mapping: printed, passed on, or bound to another name
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                self.walk(child, _PRESENT)
        elif isinstance(node, nodes.Filter) and how == _PRESENT and node.name in _TOTAL_FILTERS:
            if node.args or node.kwargs or node.dyn_args or node.dyn_kwargs or node.node is None:
                self._children(node, _VALUE)
            else:
                self.walk(node.node, _PRESENT)
        elif isinstance(node, nodes.Concat) and how == _PRESENT:  # `"Dear " ~ recipient.NAME`
            self._children(node, _PRESENT)
        elif isinstance(node, nodes.Test) and node.name in _PRESENCE_TESTS and not node.args:
            self.walk(node.node, _PRESENT)
        elif isinstance(node, (nodes.If, nodes.CondExpr)):
            self.walk(node.test, _TRUTH)
            for part in node.iter_child_nodes():
                if part is not node.test:
                    self.walk(part, how if isinstance(node, nodes.CondExpr) else _VALUE)
        elif isinstance(node, nodes.Not) and how == _TRUTH:
            self.walk(node.node, _TRUTH)
        elif isinstance(node, (nodes.And, nodes.Or)) and how == _TRUTH:
            self.walk(node.left, _TRUTH)
            self.walk(node.right, _TRUTH)
        else:
            self._children(node, _VALUE)

    def _children(self, node: nodes.Node, how: int) -> None:
        for child in node.iter_child_nodes():
            self.walk(child, how)


@dataclass(frozen=True, slots=True)
class RenderGroups:
    """The grouping of one notice's templates; ``safe`` False when they cannot be grouped."""

    safe: bool
    presence: tuple[str, ...] = ()
    truth: tuple[str, ...] = ()
    value: tuple[str, ...] = ()

    @classmethod
    def of(cls, directory: Path) -> RenderGroups:
        """Read every email part under the notice's ``directory``."""
        uses = _Uses()
        try:
            for path in sorted(p for p in directory.rglob("*") if p.name in PARTS and p.is_file()):
                uses.walk(_PARSER.parse(path.read_text(encoding="utf-8")), _VALUE)
        except (_Unsafe, jinja2.TemplateSyntaxError, OSError, UnicodeDecodeError):
            return cls(safe=False)
        for name in CHOOSERS:
            uses.note(name, _VALUE)
        by = {
            how: tuple(sorted(n for n, h in uses.fields.items() if h == how))
            for how in (_PRESENT, _TRUTH, _VALUE)
        }
        return cls(True, by[_PRESENT], by[_TRUTH], by[_VALUE])

    def columns(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
        """(present, truthy, valued): the list columns :meth:`key` reads, for the ledger to group
        by (Ledger.target_groups); without the names every template view holds alike
        (models.segment_view: the ledger state, which a render check sees empty). ``exposed``
        is always present (empty when the row lists none); ``email`` is the address. None when
        the templates cannot be grouped."""
        if not self.safe:
            return None
        return (
            tuple(n for n in self.presence if n not in _ALIKE and n not in ("email", "exposed")),
            tuple(n for n in self.truth if n not in _ALIKE),
            tuple(n for n in self.value if n not in _ALIKE),
        )

    def key(self, view: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Hashable | None:
        """Recipients with equal keys render alike (both succeed, or fail the same way); None
        when this recipient must be rendered on their own."""
        if not self.safe:
            return None
        get = view.get  # a key per recipient: list comprehensions, no generators (issue 15)
        try:
            return (
                tuple([n in view for n in self.presence]),
                tuple([(n in view, bool(get(n))) for n in self.truth]),
                tuple([_frozen(get(n, _MISSING)) for n in self.value]),
                _frozen(extra) if extra else None,
            )
        except TypeError:  # a value that cannot be compared as a key
            return None


_MISSING = ("<missing>",)
# What models.segment_view adds to every template view from the ledger state: the same for
# everyone in a render check (Recipient.template_view passes no state).
_ALIKE = frozenset({"first_notice", "complained", "unsubscribed", "suppressed", "bounced"})


def _frozen(value: Any) -> Hashable:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        plain: Hashable = value
        return plain  # list cells are text; the ledger-state fields are text or bool
    if kind is list:
        return tuple([_frozen(v) for v in value])  # the exposed codes
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _frozen(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(_frozen(v) for v in value)
    hash(value)  # TypeError for anything else unhashable
    return (type(value).__name__, value)
