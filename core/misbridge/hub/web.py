"""The hub's web pages: server-rendered (Jinja2), no front-end build, no external assets.

Schools with their agent's state, Start Extract (shown only to users with
``import-data``), each school's run history, a run's record errors with the same
search and filters as ``report.html``, and the audit log (administrators).

Log-in makes a session token (kept as a digest) in an HttpOnly, SameSite=Strict
cookie, Secure over HTTPS. Every form carries a CSRF token derived from the session,
and the pages' Content-Security-Policy allows only their own inline style and the one
script that carries this response's nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from misbridge.errorcodes import CODES
from misbridge.hub import accounts, extracts, run_errors, schools
from misbridge.hub.api_users import audit_rows
from misbridge.hub.context import HubContext
from misbridge.hub.deps import SESSION_COOKIE
from misbridge.hub.errors import Forbidden, HubError, Unauthorized
from misbridge.hub.principals import ADMIN, IMPORT_DATA, VIEW, User, require_user
from misbridge.report import html as report_html

__all__ = ["error_page", "router", "wants_html"]

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _ctx(request: Request) -> HubContext:
    ctx: HubContext = request.app.state.hub
    return ctx


def _session(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def _csrf(session: str) -> str:
    return hmac.new(session.encode(), b"misbridge-hub-csrf", hashlib.sha256).hexdigest()[:32]


def _user(request: Request) -> User | None:
    token = _session(request)
    if not token:
        return None
    ctx = _ctx(request)
    try:
        found = accounts.authenticate(ctx.engine, ctx.now(), token, via="session")
    except Unauthorized:
        return None
    return found if isinstance(found, User) else None


def _check_csrf(request: Request, given: str) -> None:
    session = _session(request)
    if not session or not hmac.compare_digest(_csrf(session), given):
        raise Forbidden("this form has expired or did not come from this hub: reload the page")


def _page(request: Request, name: str, title: str, user: User | None, **values: Any) -> Response:
    nonce = secrets.token_urlsafe(16)
    session = _session(request)
    response = templates.TemplateResponse(
        request,
        name,
        {
            "title": title,
            "user": user,
            "csrf": _csrf(session) if session else "",
            "css": report_html._CSS,
            "nonce": nonce,
            **values,
        },
    )
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def error_page(request: Request, exc: HubError) -> Response:
    response = _page(request, "error.html", "Not possible", _user(request), message=exc.message)
    response.status_code = exc.status
    return response


def _login_redirect() -> Response:
    return RedirectResponse("/login", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return _page(request, "login.html", "Log in", None)


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    ctx = _ctx(request)
    session = accounts.login(
        ctx.engine, ctx.now(), name, password, ctx.seconds(ctx.settings.session_seconds)
    )
    if session is None:
        response = _page(
            request, "login.html", "Log in", None, flash="Wrong user name or password."
        )
        response.status_code = 401
        return response
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session[1],
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=int(ctx.settings.session_seconds),
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=64)]) -> Response:
    user = _user(request)
    if user is not None:
        _check_csrf(request, csrf)
        ctx = _ctx(request)
        accounts.revoke_token(ctx.engine, ctx.now(), user, user.token_id)
    response = _login_redirect()
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", response_class=HTMLResponse)
def schools_page(request: Request, flash: str | None = None) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    ctx = _ctx(request)
    require_user(ctx.engine, ctx.now(), user, VIEW, "school.list")
    found = schools.list_schools(
        ctx.engine, ctx.now(), user, ctx.settings.poll_hold_seconds, ctx.waiters.online()
    )
    return _page(
        request,
        "schools.html",
        "Schools",
        user,
        schools=found,
        can_import=user.has(IMPORT_DATA),
        flash=flash[:200] if flash else None,
    )


@router.get("/schools/{school_id}", response_class=HTMLResponse)
def school_page(request: Request, school_id: str) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    ctx = _ctx(request)
    require_user(ctx.engine, ctx.now(), user, VIEW, "school.view", school_id=school_id)
    school = schools.get_school(
        ctx.engine, ctx.now(), user, school_id, ctx.settings.poll_hold_seconds, ctx.waiters.online()
    )
    runs = extracts.list_requests(ctx.engine, ctx.now(), user, school_id)
    active = any(r["state"] in ("pending", "claimed", "extracting", "uploading") for r in runs)
    return _page(
        request,
        "school.html",
        school["name"],
        user,
        school=school,
        runs=runs,
        can_import=user.has(IMPORT_DATA),
        refresh=3 if active else None,
    )


@router.post("/schools/{school_id}/extract")
def start_extract(
    request: Request, school_id: str, csrf: Annotated[str, Form(max_length=64)]
) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    _check_csrf(request, csrf)
    ctx = _ctx(request)
    run, _joined = extracts.start_extract(ctx.engine, ctx.now(), user, school_id, None)
    ctx.waiters.wake(f"school:{school_id}")
    return RedirectResponse(f"/extracts/{run['id']}", status_code=303)


def _report(rows: list[dict[str, Any]], summary: dict[str, Any] | None) -> str:
    full = [
        {
            **r,
            "message": CODES[r["code"]].action if r["code"] in CODES else "",
        }
        for r in rows
    ]
    parts = [
        report_html._outcomes(summary or {}),
        report_html._counts(full),
        report_html._error_table(full),
    ]
    return "".join(parts)


@router.get("/extracts/{request_id}", response_class=HTMLResponse)
def extract_page(request: Request, request_id: str) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    ctx = _ctx(request)
    run = extracts.get_request(ctx.engine, ctx.now(), user, request_id)
    rows = run_errors.run_errors(ctx.engine, ctx.now(), user, request_id)
    school = schools.get_school(
        ctx.engine, ctx.now(), user, run["school_id"], ctx.settings.poll_hold_seconds, set()
    )
    active = run["state"] in ("pending", "claimed", "extracting", "uploading")
    return _page(
        request,
        "extract.html",
        f"Extract {run['id']}",
        user,
        run=run,
        school_name=school["name"],
        report=_report(rows, run["summary"]),
        script=report_html._JS,
        refresh=2 if active else None,
    )


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request) -> Response:
    user = _user(request)
    if user is None:
        return _login_redirect()
    ctx = _ctx(request)
    require_user(ctx.engine, ctx.now(), user, ADMIN, "audit.view")
    return _page(request, "audit.html", "Audit log", user, rows=audit_rows(ctx, None, 500))
