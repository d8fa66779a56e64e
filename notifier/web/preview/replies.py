"""What the preview answers to an authorised request: the page, its security policy, or a
problem page (404, 400, 500) in the preview's layout. Called with the application lock held."""

from __future__ import annotations

from dataclasses import dataclass, field

from notifier.errors import NotifierError, TemplateError
from notifier.render.notice import RenderFailure
from notifier.web.preview import signoff
from notifier.web.preview.app import ENV, BadRequest, NotFound, PreviewApp
from notifier.web.preview.pages import ROUTES, recipient_id

__all__ = ["Response", "answer_get", "answer_post", "csp", "plain_text", "problem"]


def csp(images: bool, nonce: str) -> str:
    img = "img-src * data:" if images else "img-src 'self' data: cid:"
    script = f"script-src 'nonce-{nonce}'" if nonce else "script-src 'none'"
    # frame-ancestors: no other page may frame the preview (clickjacking "Send a test").
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; {script}; connect-src 'self'; "
        f"{img}; frame-src 'self' about:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    extra: dict[str, str] = field(default_factory=dict)
    images: bool = False
    nonce: str = ""


def plain_text(status: int, text: str) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8")


PROBLEM = ENV.from_string(
    '<h1 id="problem">{{ title }}</h1><p id="detail">{{ detail }}</p>'
    "{% if hint %}<p>{{ hint }}</p>{% endif %}"
)


def problem(app: PreviewApp, status: int, title: str, detail: str, nonce: str, hint: str = "") -> Response:
    """An error page in the preview's layout (plain text if even the layout cannot be built)."""
    body = PROBLEM.render(title=title, detail=detail, hint=hint)
    try:
        return Response(status, app.page(title.lower(), body, nonce).encode(), nonce=nonce)
    except Exception:
        return plain_text(status, f"{title}: {detail}\n{hint}\n")


def answer_get(app: PreviewApp, path: str, query: dict[str, str], nonce: str) -> Response:
    """The reply to an authorised GET; called with the application lock held."""
    try:
        if path == "/changes":
            return plain_text(200, app.version())
        if path == "/message.eml":
            rid = recipient_id(query)
            _, _, data = app.build(rid, query.get("notice"))
            disposition = f'attachment; filename="notice-{rid}.eml"'
            return Response(200, data, "message/rfc822", {"Content-Disposition": disposition})
        if path == "/dashboard" and query.get("part") == "live":  # the dashboard's own refresh
            return Response(200, ROUTES[path](app, query).encode(), nonce=nonce)
        if path in ROUTES:
            body = app.page(path.strip("/") or "overview", ROUTES[path](app, query), nonce, current=path)
            return Response(200, body.encode(), images=query.get("images") == "1", nonce=nonce)
        return problem(app, 404, "Not found", f"There is no page {path!r} in the preview.", nonce)
    except NotFound as exc:
        return problem(app, 404, "Not found", exc.message, nonce)
    except BadRequest as exc:
        return problem(app, 400, "Bad request", str(exc), nonce)
    except RenderFailure as exc:
        return problem(
            app,
            500,
            "This notice does not render",
            f"{exc.where}: {exc.what}",
            nonce,
            "Fix the template; `notify send` will not send it either.",
        )
    except TemplateError as exc:
        return problem(app, 500, "This notice cannot be loaded", exc.message, nonce, exc.hint or "")
    except Exception as exc:
        return problem(app, 500, "Problem", f"{type(exc).__name__}: {exc}", nonce)


def answer_post(app: PreviewApp, path: str, form: dict[str, str], nonce: str) -> Response:
    """The reply to an authorised POST (its token came with it); the lock is held."""
    if path == "/approve":
        return _approve(app, form, nonce)
    if path != "/send-test":
        return plain_text(404, "Not found\n")
    try:
        rid = recipient_id(form)
        result = app.send_test(rid, form.get("notice"), form.get("seed", ""))
    except PermissionError as exc:
        return plain_text(403, f"{exc}\n")
    except NotFound as exc:
        return problem(app, 404, "Not found", exc.message, nonce)
    except NotifierError as exc:  # e.g. a follow-up with no [serve] public_url: `send` refuses too
        result = f"NOT sent: {exc.message}" + (f" — {exc.hint}" if exc.hint else "")
    except Exception as exc:
        result = f"NOT sent: {type(exc).__name__}: {exc}"
    body = ENV.from_string(
        '<h1>Test</h1><p id="result">{{ r }}</p><p><a href="{{ back }}">back</a></p>'
    ).render(r=result, back=app.link("/message", id=form.get("id"), notice=form.get("notice")))
    return Response(200, app.page("test", body, nonce).encode(), nonce=nonce)


def _approve(app: PreviewApp, form: dict[str, str], nonce: str) -> Response:
    try:
        done, said = signoff.approve(app, form)
    except NotFound as exc:
        return problem(app, 404, "Not found", exc.message, nonce)
    body = ENV.from_string(
        '<h1>{{ "Approved" if done else "Not approved" }}</h1><p id="result" class="{{ "approved" if done '
        'else "bad" }}">{{ said }}</p><p><a href="{{ back }}">back to the overview</a> · '
        '<a href="{{ compare }}">back to the comparison</a></p>'
    ).render(
        done=done,
        said=said,
        back=app.link("/"),
        compare=app.link("/compare", notice=form.get("notice")),
    )
    return Response(200 if done else 400, app.page("approval", body, nonce).encode(), nonce=nonce)
