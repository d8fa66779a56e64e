"""Segments: named, sandboxed expressions over ``recipient`` choosing who gets a notice.

``[segments]`` in notify.toml maps a name to a Jinja expression, e.g.
``affected = "recipient.exposed"`` or ``eu = "recipient.country in ['DE','FR','IE']"``.
Expressions run in Jinja's SandboxedEnvironment (never Python ``eval``) with
StrictUndefined, so a misspelt column is an error, not an empty segment.
``all`` is built in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.parser import Parser
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.errors import ConfigError, SegmentError, UnknownSegmentError, did_you_mean

__all__ = ["BUILTIN", "Segment", "compile_segment", "resolve"]

BUILTIN: dict[str, str] = {
    "all": "true",
    # From the ledger, for follow-ups: their state for the campaign's first notice.
    "notified": "recipient.first_notice == 'sent' and not recipient.complained",
    "unreached": "recipient.first_notice in ['bounced', 'failed', 'suppressed']",
}
# What segments see of the ledger when a recipient has no ledger state yet (preview, lint).
_LEDGER_DEFAULTS = {"first_notice": "", "complained": False, "unsubscribed": False}
# What segment_view (notifier.models) adds from the ledger: a segment naming none of these does
# not need the ledger's state read for each person.
_LEDGER_FIELDS = frozenset({"first_notice", "complained", "unsubscribed", "suppressed", "bounced"})

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined)


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    expression: str
    test: Callable[..., Any]
    everyone: bool = False  # the expression is the constant true: no row needs reading
    reads_ledger: bool = True  # it names a ledger-state field (or `recipient` as a whole)

    def matches(self, recipient: Mapping[str, Any], *, where: str) -> bool:
        """True when the recipient belongs. ``where`` (file:line) names the row in errors.

        Raises SegmentError when the expression fails for this recipient.
        """
        if "first_notice" not in recipient:
            recipient = {**_LEDGER_DEFAULTS, **recipient}
        try:
            return bool(self.test(recipient=recipient))
        except (UndefinedError, SecurityError, TypeError, ValueError) as exc:
            raise SegmentError(
                f"segment {self.name!r} ({self.expression}) failed for the recipient at {where}: {exc}",
                hint="use `recipient.COLUMN is defined and ...` for columns that may be empty",
            ) from None


def compile_segment(name: str, expression: str, *, path: str = "", line: int | None = None) -> Segment:
    """Compile one expression. Raises ConfigError (with the notify.toml line) on bad syntax."""
    try:
        test = _ENV.compile_expression(expression, undefined_to_none=False)
    except TemplateSyntaxError as exc:
        raise ConfigError(
            f"segment {name!r}: {exc.message} in {expression!r}",
            path=path,
            line=line,
            key=f"segments.{name}",
        ) from None
    everyone, fields = _shape(expression)
    reads_ledger = fields is None or bool(fields & _LEDGER_FIELDS)
    return Segment(name, expression, test, everyone=everyone, reads_ledger=reads_ledger)


def _shape(expression: str) -> tuple[bool, frozenset[str] | None]:
    """(is it the constant true, the recipient fields it names; None when it uses ``recipient``
    other than as ``recipient.NAME`` / ``recipient['NAME']``)."""
    expr = Parser(_ENV, expression, state="variable").parse_expression()
    if isinstance(expr, nodes.Const):
        return expr.value is True, frozenset()
    names: set[str] = set()
    bases: set[int] = set()
    found = [expr, *expr.find_all((nodes.Getattr, nodes.Getitem, nodes.Name))]
    for node in found:
        if not isinstance(node, (nodes.Getattr, nodes.Getitem)):
            continue
        base = node.node
        if isinstance(base, nodes.Name) and base.name == "recipient":
            if isinstance(node, nodes.Getattr):
                names.add(node.attr)
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                names.add(node.arg.value)
            else:
                return False, None
            bases.add(id(base))
    for name in found:
        if isinstance(name, nodes.Name) and name.name == "recipient" and id(name) not in bases:
            return False, None
    return False, frozenset(names)


def resolve(
    name: str, defined: Mapping[str, str], *, path: str = "", lines: Mapping[str, int] | None = None
) -> Segment:
    """The segment called ``name``. Raises UnknownSegmentError listing the defined ones."""
    everything = {**BUILTIN, **defined}
    if name not in everything:
        names = ", ".join(sorted(everything))
        # A near miss is a typo, not a new segment: offering a template for "afected" would
        # invite defining a second, different audience under a misspelt name.
        close = did_you_mean(name, everything)
        raise UnknownSegmentError(
            f"unknown segment {name!r}; defined segments: {names}",
            hint=close
            or f"add it under [segments] in notify.toml, e.g.  {name} = \"recipient.country == 'US'\"",
        )
    return compile_segment(name, everything[name], path=path, line=(lines or {}).get(name))
