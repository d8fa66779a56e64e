"""Render a notice for one recipient: subject, HTML (CSS inlined) and text.

A notice is a folder ``templates/<notice>/`` holding ``subject.txt``, ``body.html``
and ``body.txt``, in the notice's own language (``language`` in notice.toml, else English);
``lang/<code>/`` holds the same parts in another language, with a ``pack.toml`` saying who
reviewed the translation (render/locale.py chooses the language per recipient).

HTML is autoescaped; every template runs with StrictUndefined, so a
value missing for one recipient is an error naming the template and line, never a blank.

Speed: premailer costs ~0.8 ms per call (DESIGN §4). CSS inlining depends only on the
HTML structure, so it runs once per notice on the *template source*, with every Jinja
tag swapped for an inert placeholder first. That is exact as long as no Jinja tag sits
inside a ``<style>`` element or a ``class``/``id``/``style`` attribute; for such
templates we fall back to inlining every rendered message, and say so.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from notifier.errors import TemplateError, did_you_mean
from notifier.models import Rendered
from notifier.render.locale import (
    LanguageChoice,
    LanguagePolicy,
    babel_locale,
    format_number,
    format_when,
    language_rules,
    normalise_tag,
)

__all__ = [
    "DEFAULT_CATEGORIES",
    "LanguagePack",
    "Notice",
    "RenderFailure",
    "load_notice",
    "notice_language",
    "notice_meta",
]

PARTS = ("subject.txt", "body.html", "body.txt")

DEFAULT_CATEGORIES: dict[str, str] = {
    "email": "your email address",
    "name": "your name",
    "postal_address": "your postal address",
    "address": "your postal address",
    "phone": "your phone number",
    "date_of_birth": "your date of birth",
    "password": "your password (stored in scrambled, hashed form)",
    "password_hash": "your password (stored in scrambled, hashed form)",
    "security_questions": "your security questions and answers",
    # The login of a mailbox we provide (issue 16): that mailbox is never sent the notice.
    "mailbox_credentials": "the password of the email account we provide you",
    "purchase_history": "your order history",
    "ip_address": "the internet (IP) address you used with us",
    "preferences": "your marketing preferences",
    "ssn": "your Social Security number",
    "drivers_license": "your driver's licence number",
    "passport": "your passport number",
    "account_number": "your account number",
    "payment_card": "your payment card number",
}

_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_PLACEHOLDER = re.compile(r"JINJAPH(\d{6})X")
_UNSAFE_FOR_PREINLINE = re.compile(
    r"<style\b[^>]*>[^<]*(\{\{|\{%)|\b(class|id|style)\s*=\s*(\"[^\"]*(\{\{|\{%)|'[^']*(\{\{|\{%))"
    r"|\{%-?\s*(extends|include|import|from)\b",
    re.I | re.S,
)


class Section:
    """Named values for templates: ``incident.discovered`` or ``incident["discovered"]``.

    Values live in the instance ``__dict__``, so Jinja's attribute lookup finds them at
    the first try (on a dict it first fails getattr, which costs an exception per
    lookup, ~170 per message). It knows its name, so a missing key is reported as
    ``incident.discovered``.
    """

    def __init__(self, label: str, data: Mapping[str, Any]) -> None:
        self.__dict__.update(data)
        self.__dict__["_Section__label"] = label

    @property
    def label(self) -> str:
        return str(self.__dict__["_Section__label"])

    def __getitem__(self, key: str) -> Any:
        if key.startswith("_Section__"):
            raise KeyError(key)
        return self.__dict__[key]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.__dict__ and not key.startswith("_Section__")

    def __iter__(self) -> Iterator[str]:
        return (k for k in self.__dict__ if not k.startswith("_Section__"))

    def __len__(self) -> int:
        return len(self.__dict__) - 1

    def __repr__(self) -> str:
        return f"<{self.label}>"


class LoudUndefined(StrictUndefined):
    """StrictUndefined whose message names the value as a user writes it."""

    @property
    def _undefined_message(self) -> str:
        obj = self._undefined_obj
        if isinstance(obj, Section) and isinstance(self._undefined_name, str):
            where = "the list" if obj.label == "recipient" else "notify.toml"
            return f"{obj.label}.{self._undefined_name} is missing (not set in {where})"
        message: str = super()._undefined_message
        return message


def sections(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Wrap each table of campaign facts so that errors can name it."""
    return {k: Section(k, v) if isinstance(v, Mapping) else v for k, v in facts.items()}


class RenderFailure(Exception):
    """One recipient's render failed; ``where`` is 'template:line', ``what`` the problem."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


def _quiet_premailer() -> Any:
    import cssutils
    import premailer

    cssutils.log.setLevel(logging.CRITICAL)
    return premailer


def inline_css(html: str) -> str:
    """premailer with the settings every notice uses (media queries stay in <style>)."""
    premailer = _quiet_premailer()
    result: str = premailer.transform(
        html,
        disable_validation=True,
        remove_classes=False,
        cssutils_logging_level=logging.CRITICAL,
        allow_network=False,
    )
    return result


_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S | re.I)


def _compact_style(m: re.Match[str]) -> str:
    # The rules premailer keeps (media queries) come indented; CSS does not care, and a body
    # without runs of spaces is ~10x cheaper to canonicalise for DKIM.
    return m.group(1) + " ".join(m.group(2).split()) + m.group(3)


def preinline(source: str) -> str | None:
    """Inline CSS into a Jinja HTML template once; None when that would not be exact."""
    if _UNSAFE_FOR_PREINLINE.search(source):
        return None
    tags: list[str] = []

    def protect(m: re.Match[str]) -> str:
        tags.append(m.group(0))
        return f"JINJAPH{len(tags) - 1:06d}X"

    inlined = _STYLE_BLOCK.sub(_compact_style, inline_css(_JINJA_TAG.sub(protect, source)))
    restored = _PLACEHOLDER.sub(lambda m: tags[int(m.group(1))], inlined)
    if len(_PLACEHOLDER.findall(inlined)) != len(tags):
        return None  # premailer dropped or duplicated a tag: not safe
    return restored


# A notice's dates are the campaign's (incident.discovered, notice.date): the same few values for
# every recipient, and Babel takes ~25 us to format one, six times a message (issue 15).
_format_when_cached = functools.lru_cache(maxsize=4096)(format_when)


@jinja2.pass_context
def _longdate(ctx: jinja2.runtime.Context, value: Any) -> str:
    """Dates in the recipient's language, times in their zone (render/locale.py)."""
    lang = ctx.get("language")
    locale, zone = (lang["locale"], lang["timezone"]) if isinstance(lang, Section) else ("en", "UTC")
    try:
        return _format_when_cached(value, locale, zone)
    except TypeError:  # not hashable: not a date either
        return format_when(value, locale, zone)


@jinja2.pass_context
def _number(ctx: jinja2.runtime.Context, value: Any) -> str:
    lang = ctx.get("language")
    return format_number(value, lang["locale"] if isinstance(lang, Section) else "en")


_SECTION_ATTRS = frozenset(dir(Section))
_NOT_DATA = object()


class _NoticeSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with a fast path for the campaign's own values.

    The sandbox vets every attribute lookup (~2.3 us each, most of them ``incident.x`` or
    ``recipient.x``). A non-underscore key stored in a Section is plain data the campaign
    gave us, which the full check would allow anyway; what is done with the value is
    still vetted."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Class attributes (the label property) are left to the sandbox, as Python would find
        # them before the instance's values.
        if type(obj) is Section and attribute not in _SECTION_ATTRS:
            value = obj.__dict__.get(attribute, _NOT_DATA)
            if value is not _NOT_DATA and not attribute.startswith("_"):
                return value
        return super().getattr(obj, attribute)


# Statements whose effect on names or escaping the folding below does not follow: a template
# holding one is compiled as it is.
_NOT_FOLDED = (
    nodes.Extends,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Macro,
    nodes.CallBlock,
    nodes.Block,
    nodes.EvalContextModifier,
    nodes.ScopedEvalContextModifier,
)


class _Fold(NodeTransformer):
    """``incident.reference`` -> the campaign's value, as a constant of the compiled template.

    A notice reads ~90 campaign facts per message (``org.name``, ``incident.reference``...), the
    same for every recipient of one language; each was an attribute lookup through the sandbox
    and, in HTML, an escape. Folded, Jinja's code generator joins ``{{ org.name }}`` with the
    text around it into one constant string (escaped once, at compile time, exactly as it would
    have been at render time). Only plain data is folded (strings, numbers, booleans and lists or
    tables of them: what Jinja can write as a literal); dates and everything else stay lookups,
    as do names the template assigns, facts that are missing (so the error still names them)
    and anything about the recipient or their language (issue 15)."""

    def __init__(self, facts: Mapping[str, Section], environment: jinja2.Environment) -> None:
        self.facts = facts
        self.environment = environment

    def visit_Test(self, node: nodes.Test) -> nodes.Node:
        # ``incident.contained is defined``: known now, from whether the campaign set it (a fact
        # left out made an Undefined at every render only to test it).
        target = node.node
        if (
            node.name in ("defined", "undefined")
            and not node.args
            and not node.kwargs
            and isinstance(target, nodes.Getattr)
            and isinstance(target.node, nodes.Name)
            and target.node.ctx == "load"
            and target.node.name in self.facts
            and not target.attr.startswith("_")
            and target.attr not in _SECTION_ATTRS
        ):
            present = target.attr in self.facts[target.node.name].__dict__
            return nodes.Const(present == (node.name == "defined"), lineno=node.lineno)
        return self.generic_visit(node)

    def visit_Getattr(self, node: nodes.Getattr) -> nodes.Node:
        base = node.node
        if isinstance(base, nodes.Name) and base.ctx == "load" and base.name in self.facts:
            values = self.facts[base.name].__dict__
            if not node.attr.startswith("_") and node.attr not in _SECTION_ATTRS and node.attr in values:
                try:
                    return nodes.Const.from_untrusted(
                        values[node.attr], lineno=node.lineno, environment=self.environment
                    )
                except nodes.Impossible:
                    pass
        return self.generic_visit(node)


def _folded(
    env: jinja2.Environment, source: str, name: str | None, context: Mapping[str, Any]
) -> jinja2.Template | None:
    """``source`` compiled with the campaign facts in ``context`` folded in (see :class:`_Fold`);
    None when the template uses statements the folding does not follow."""
    tree = env.parse(source, name)
    if any(True for _ in tree.find_all(_NOT_FOLDED)):
        return None
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx != "load"}
    facts = {
        k: v
        for k, v in context.items()
        if type(v) is Section and k not in assigned and k not in ("recipient", "language")
    }
    tree = _Fold(facts, env).visit(tree)
    return env.template_class.from_code(env, env.compile(tree, name), env.make_globals(None), None)


def _environment(loader: jinja2.BaseLoader, *, html: bool) -> jinja2.Environment:
    # Text parts and subjects are not HTML, so only the HTML environment autoescapes.
    # Sandboxed: a template is data, not code; whoever can write one into the templates folder
    # (or trick the preview into reading one from elsewhere) must not run Python. Immutable,
    # because the campaign facts are shared by every recipient's render: a template must not
    # be able to change what the next recipient is told.
    env = _NoticeSandbox(
        loader=loader,
        autoescape=html,
        undefined=LoudUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    @jinja2.pass_context
    def category(ctx: jinja2.runtime.Context, code: str) -> str:
        # The labels of the recipient's language (built in, then notify.toml's).
        lang = ctx.get("language")
        labels: Mapping[str, str] = lang["categories"] if isinstance(lang, Section) else DEFAULT_CATEGORIES
        try:
            return labels[code]
        except KeyError:
            where = (
                "[categories]"
                if not isinstance(lang, Section) or lang["own"]
                else f"[translations.{lang['code']}.categories]"
            )
            raise jinja2.UndefinedError(
                f'no plain-words label for data category {code!r}: add  {code} = "..."  '
                f"under {where} in notify.toml"
            ) from None

    env.filters["category"] = category
    env.filters["longdate"] = _longdate
    env.filters["number"] = _number
    return env


def _where(exc: BaseException, templates_dir: Path) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        try:
            rel = Path(frame.filename).resolve().relative_to(templates_dir.resolve())
        except ValueError:
            continue
        return f"{rel}:{frame.lineno}"
    return "template"


@dataclass(frozen=True, slots=True)
class LanguagePack:
    """``lang/<code>/pack.toml``: a translation of the notice, and who reviewed it when."""

    code: str
    directory: Path
    reviewed_by: str = ""
    reviewed_at: str = ""

    @property
    def reviewed(self) -> bool:
        return bool(self.reviewed_by and self.reviewed_at)


@dataclass
class Notice:
    """A compiled notice: the fast path for sending and the exact path for checking.

    A notice may have per-jurisdiction variants in ``variants/<CODE>/`` (an ISO 3166-2
    region such as ``US-MA``, or a country such as ``DE``), each overriding any of the three
    parts; a recipient gets the variant of their region, else of their country, else the
    default. Each language pack (``lang/<code>/``) may have its variants too; where a pack
    lacks a variant the notice's own language has, the recipient gets that variant in the
    notice's own language (what the law of their place asks comes before the language).
    """

    name: str
    directory: Path
    context: Mapping[str, Any]
    fast_html: bool  # CSS inlined once into the template source
    kind: str = "legal"  # "legal" (required by law) or "follow-up" (notice.toml)
    refers_to: str = ""  # for a follow-up: the notice it follows up on
    language: str = "en"  # the language of the parts in the notice's own folder

    def __post_init__(self) -> None:
        loader = jinja2.FileSystemLoader(str(self.directory.parent))
        self._text_env = _environment(loader, html=False)
        self._html_env = _environment(loader, html=True)
        self.packs = _read_packs(self.directory, self.language)
        campaign = self.context.get("campaign") or {}
        self.policy = LanguagePolicy(
            list(self.packs),
            self.language,
            campaign_default=str(campaign.get("language") or ""),
            campaign_zone=str(campaign.get("timezone") or "UTC"),
            zones=campaign.get("zones") or {},
        )
        translations: Mapping[str, Any] = self.context.get("translations") or {}
        self._sections: dict[str, dict[str, Any]] = {}
        self._languages: dict[str, dict[str, Any]] = {}
        self._facts: dict[str, dict[str, Any]] = {}
        for code in (self.language, *self.packs):
            own = code == self.language
            facts = self._facts[code] = _translated(self.context, translations, code, own=own)
            self._sections[code] = sections(facts)
            self._languages[code] = self._language_facts(code, facts)
        self._parts: dict[tuple[str, str], _Parts] = {}
        self._variant_names: list[str] = ["default"]
        for code in (self.language, *self.packs):
            root = self.directory if code == self.language else self.packs[code].directory
            self._parts[(code, "default")] = self._compile(root, None, code)
            variants = root / "variants"
            if variants.is_dir():
                for folder in sorted(p for p in variants.iterdir() if p.is_dir()):
                    self._parts[(code, folder.name.upper())] = self._compile(root, folder.name, code)
                    if folder.name.upper() not in self._variant_names:
                        self._variant_names.append(folder.name.upper())
        self._choices: dict[tuple[str, ...], LanguageChoice] = {}

    def _language_facts(self, code: str, facts: Mapping[str, Any]) -> dict[str, Any]:
        """What templates see as ``language``: code, name, formatting, labels, help lines."""
        table = language_rules().get(code.split("-")[0], {})
        own_labels = table.get("categories", {}) if code.split("-")[0] != "en" else DEFAULT_CATEGORIES
        user = self.context.get("categories") or {}
        translated = ((self.context.get("translations") or {}).get(code) or {}).get("categories") or {}
        phone = str((facts.get("contact") or {}).get("phone", ""))
        # Section 1557 practice (notice-channels §5): a short line in each language the notice
        # speaks, with the phone number, so someone who cannot read this one knows whom to call.
        help_lines = []
        for other in (self.language, *self.packs):
            line = language_rules().get(other.split("-")[0], {}).get("help", "")
            if line and phone:
                help_lines.append(line.replace("{phone}", phone))
        return {
            "code": code,
            "own": code == self.language,
            "name": table.get("name", code),
            # Built-in labels of the language, then notify.toml's: its [categories] for the
            # notice's own language, else [translations.<code>.categories] (an English label
            # of a code the language has no label for is kept, and lint names it).
            "categories": {**own_labels, **user}
            if code == self.language
            else {**user, **own_labels, **translated},
            "help": help_lines,
        }

    def facts_in(self, language: str) -> dict[str, Any]:
        """The campaign facts as the ``language`` pack shows them (its translations applied)."""
        return self._facts[language]

    def labels(self, language: str) -> dict[str, str]:
        """Plain-words labels of the data categories in ``language``."""
        labels: dict[str, str] = self._languages[language]["categories"]
        return labels

    @property
    def variants(self) -> list[str]:
        return list(self._variant_names)

    @property
    def languages(self) -> list[str]:
        """The notice's own language first, then its packs."""
        return [self.language, *self.packs]

    @property
    def inlined_once(self) -> bool:
        """True when every variant's CSS was inlined into its template (the fast path)."""
        return all(p.html_fast is not None for p in self._parts.values())

    def _compile(self, root: Path, variant: str | None, code: str) -> _Parts:
        base = root.relative_to(self.directory.parent).as_posix()

        def name(part: str) -> str:
            if variant is not None and (root / "variants" / variant / part).is_file():
                return f"{base}/variants/{variant}/{part}"
            return f"{base}/{part}"

        try:
            html_name = name("body.html")
            html = self._html_env.get_template(html_name)
            source = (self.directory.parent / html_name).read_text(encoding="utf-8")
            inlined = preinline(source) if self.fast_html else None
            facts = self._sections[code]

            def fold(env: jinja2.Environment, part: str, source: str | None = None) -> jinja2.Template | None:
                if source is None:
                    source = (self.directory.parent / part).read_text(encoding="utf-8")
                return _folded(env, source, part, facts)

            subject_name, text_name = name("subject.txt"), name("body.txt")
            return _Parts(
                subject=self._text_env.get_template(subject_name),
                text=self._text_env.get_template(text_name),
                html=html,
                html_fast=self._html_env.from_string(inlined) if inlined is not None else None,
                folded=(
                    fold(self._text_env, subject_name),
                    fold(self._text_env, text_name),
                    fold(self._html_env, html_name, inlined if inlined is not None else source),
                ),
                fact_names=frozenset(k for k, v in facts.items() if type(v) is Section),
            )
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}",
                hint="fix the template; `notify send` will not run until it compiles",
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise TemplateError(f"template not found: {exc.name}") from None

    def language_for(self, recipient: Mapping[str, Any]) -> LanguageChoice:
        """The language this recipient is written to, and why (shown in preview and report)."""
        key = tuple(str(recipient.get(k) or "") for k in ("locale", "region", "country", "timezone"))
        choice = self._choices.get(key)
        if choice is None:
            choice = self._choices[key] = self.policy.choose(recipient)
            variant = self._variant_key(recipient)
            if variant != "default" and (choice.language, variant) not in self._parts:
                # The pack lacks the variant the law of their place needs: that variant, in the
                # notice's own language, and the reason says so.
                choice = self._choices[key] = LanguageChoice(
                    language=self.language,
                    locale=babel_locale(self.language, "", str(recipient.get("country") or "").upper()),
                    timezone=choice.timezone,
                    reason=f"{choice.reason}; no {choice.language} {variant} variant",
                    wanted=choice.language,
                )
        return choice

    def _variant_key(self, recipient: Mapping[str, Any]) -> str:
        for key in (str(recipient.get("region", "")).upper(), str(recipient.get("country", "")).upper()):
            if key and key in self._variant_names:
                return key
        return "default"

    def variant_for(self, recipient: Mapping[str, Any]) -> str:
        return self._variant_key(recipient)

    def _select(
        self, recipient: Mapping[str, Any], extra: Mapping[str, Any] | None = None
    ) -> tuple[_Parts, dict[str, Any]]:
        choice = self.language_for(recipient)
        variant = self._variant_key(recipient)
        parts = self._parts.get((choice.language, variant)) or self._parts[(choice.language, "default")]
        language = Section(
            "language", {**self._languages[choice.language], **choice.as_dict(), "code": choice.language}
        )
        ctx = {**self._sections[choice.language], "recipient": Section("recipient", recipient)}
        ctx["language"] = language
        if extra:  # per-recipient facts beside `recipient`, e.g. their `offer` (issue 17)
            ctx.update(sections(extra))
        return parts, ctx

    def render(self, recipient: Mapping[str, Any], extra: Mapping[str, Any] | None = None) -> Rendered:
        """The bytes-to-be of one message. Raises RenderFailure naming template and line."""
        parts, ctx = self._select(recipient, extra)
        subject_t, text_t, html_t = parts.folded
        if extra and not parts.fact_names.isdisjoint(extra):
            subject_t = text_t = html_t = None  # a per-recipient value under a fact's name: no folding
        try:
            subject = " ".join((subject_t or parts.subject).render(ctx).split())
            text = (text_t or parts.text).render(ctx)
            if html_t is not None:
                html = html_t.render(ctx) if parts.html_fast is not None else inline_css(html_t.render(ctx))
            else:
                html = (
                    parts.html_fast.render(ctx)
                    if parts.html_fast is not None
                    else inline_css(parts.html.render(ctx))
                )
        except jinja2.TemplateError as exc:
            # The fast HTML template has no file; re-render the exact path for the location.
            raise self._failure(parts, ctx) or RenderFailure("template", str(exc)) from None
        return Rendered(subject=subject, html=html, text=text)

    def check(
        self, recipient: Mapping[str, Any], extra: Mapping[str, Any] | None = None
    ) -> RenderFailure | None:
        """Render from the template files (exact line numbers); the failure or None."""
        return self._failure(*self._select(recipient, extra))

    def _failure(self, parts: _Parts, ctx: dict[str, Any]) -> RenderFailure | None:
        for template in (parts.subject, parts.html, parts.text):
            try:
                template.render(ctx)
            except jinja2.TemplateError as exc:
                where = _where(exc, self.directory.parent)
                what = exc.message or str(exc)
                return RenderFailure(where, what)
        return None


def _translated(
    context: Mapping[str, Any], translations: Mapping[str, Any], code: str, *, own: bool
) -> dict[str, Any]:
    """The campaign facts in language ``code``: ``[translations.<code>.<table>]`` over the
    facts, key by key (what is not translated stays as written, and lint says so)."""
    facts = {k: v for k, v in context.items() if k != "translations"}
    if own:
        return facts
    local = translations.get(code) or translations.get(code.split("-")[0]) or {}
    for table, values in local.items():
        if isinstance(values, Mapping) and isinstance(facts.get(table), Mapping):
            facts[table] = {**facts[table], **values}
        elif isinstance(values, Mapping):
            facts[table] = dict(values)
    return facts


_PACK_KEYS = frozenset({"language", "reviewed_by", "reviewed_at"})


def _read_packs(directory: Path, own: str) -> dict[str, LanguagePack]:
    """``lang/<code>/`` folders, each with every part and a pack.toml. Raises TemplateError."""
    root = directory / "lang"
    packs: dict[str, LanguagePack] = {}
    if not root.is_dir():
        return packs
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        code = normalise_tag(folder.name)
        where = f"{directory.name}/lang/{folder.name}"
        if not code or code == own:
            raise TemplateError(
                f"{where}: {folder.name!r} is not a language other than the notice's own ({own})",
                hint="name the folder by its BCP 47 code, e.g. es, fr, de or fr-CA",
            )
        missing = [p for p in PARTS if not (folder / p).is_file()]
        if missing:
            raise TemplateError(
                f"{where} is missing {', '.join(missing)}",
                hint="a language pack holds every part of the notice (subject.txt, body.html, body.txt)",
            )
        meta: dict[str, Any] = {}
        meta_file = folder / "pack.toml"
        if meta_file.is_file():
            try:
                meta = tomllib.loads(meta_file.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise TemplateError(f"{where}/pack.toml: {exc}") from None
        unknown = sorted(set(meta) - _PACK_KEYS)
        stated = normalise_tag(str(meta.get("language", code)))
        if unknown or stated != code:
            raise TemplateError(
                f"{where}/pack.toml: "
                + (f"unknown key(s) {', '.join(unknown)}" if unknown else f"language {stated!r}"),
                hint=f'keys: language = "{code}", reviewed_by = "NAME", reviewed_at = 2026-12-01',
            )
        packs[code] = LanguagePack(
            code, folder, str(meta.get("reviewed_by", "")).strip(), str(meta.get("reviewed_at", "")).strip()
        )
    return packs


@dataclass(frozen=True, slots=True)
class _Parts:
    subject: jinja2.Template
    text: jinja2.Template
    html: jinja2.Template  # from the file: exact line numbers
    html_fast: jinja2.Template | None  # CSS inlined once; None when that would not be exact
    # The same parts with the campaign facts folded in (None: not foldable, use the above).
    folded: tuple[jinja2.Template | None, jinja2.Template | None, jinja2.Template | None] = (None, None, None)
    fact_names: frozenset[str] = frozenset()  # the context names folded in


def load_notice(
    templates_dir: Path, name: str, context: Mapping[str, Any], *, fast_html: bool = True
) -> Notice:
    """Compile notice ``name`` from ``templates_dir``. Raises TemplateError."""
    # A notice is named by its folder, never by a path: "../x" or "/etc" would read (and
    # render) templates from outside the campaign's templates folder.
    plain = bool(name) and name not in (".", "..") and not set(name) & {"/", "\\", "\0"}
    directory = templates_dir / name
    if not plain or not directory.is_dir():
        available = (
            sorted(p.name for p in templates_dir.iterdir() if p.is_dir()) if templates_dir.is_dir() else []
        )
        # A near miss (say in [campaign] notice) is a typo: name the notice that was meant.
        close = did_you_mean(name, available) if plain else ""
        raise TemplateError(
            f"no notice {name!r} in {templates_dir}",
            hint=(f"{close} " if close else "") + f"available notices: {', '.join(available) or 'none'}",
        )
    missing = [p for p in PARTS if not (directory / p).is_file()]
    if missing:
        raise TemplateError(
            f"notice {name!r} is missing {', '.join(missing)} in {directory}",
            hint="every notice needs subject.txt, body.html and body.txt (a text part is always sent)",
        )
    kind, refers_to = notice_meta(directory)
    return Notice(
        name=name,
        directory=directory,
        context=context,
        fast_html=fast_html,
        kind=kind,
        refers_to=refers_to,
        language=notice_language(directory),
    )


def notice_meta(directory: Path) -> tuple[str, str]:
    """``notice.toml`` beside the templates: ``kind = "follow-up"`` and ``refers_to``."""
    meta_file = directory / "notice.toml"
    if not meta_file.is_file():
        return "legal", ""
    try:
        meta = tomllib.loads(meta_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{meta_file}: {exc}") from None
    unknown = sorted(set(meta) - {"kind", "refers_to", "title", "language"})
    kind = meta.get("kind", "legal")
    if unknown or kind not in ("legal", "follow-up"):
        raise TemplateError(
            f"{meta_file}: unknown key(s) {', '.join(unknown)}" if unknown else f"{meta_file}: kind {kind!r}",
            hint='use kind = "legal" or "follow-up", and refers_to = "NOTICE" for a follow-up',
        )
    if kind == "follow-up" and not meta.get("refers_to"):
        raise TemplateError(
            f"{meta_file}: a follow-up must say which notice it follows (refers_to)",
            hint='add refers_to = "breach-notice"',
        )
    return str(kind), str(meta.get("refers_to", ""))


def notice_language(directory: Path) -> str:
    """``language`` in notice.toml: the language of the notice's own parts (default English)."""
    meta_file = directory / "notice.toml"
    if not meta_file.is_file():
        return "en"
    try:
        meta = tomllib.loads(meta_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{meta_file}: {exc}") from None
    code = normalise_tag(str(meta.get("language", "en")))
    if not code:
        raise TemplateError(
            f"{meta_file}: language {meta.get('language')!r} is not a BCP 47 code",
            hint='e.g. language = "en"',
        )
    return code
