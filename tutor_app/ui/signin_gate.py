"""The door in front of Gradio: the app's own sign-in page, the sign-in itself, and the check of
every request's sign-in.

Gradio's built-in sign-in has its own look ("Incorrect Credentials"), runs the secret check on
the server's event loop (one ~70 ms scrypt check stalls every student's page for that long),
knows nothing of the client's address and never ends a sign-in. So this ASGI middleware, put in
front of Gradio's routes when sign-in is on, handles:

- ``GET /`` without a sign-in, and ``GET /login``: the sign-in page (``signin.html``), in the app's
  style, saying what students and the teacher type;
- ``POST /login`` (the page, and ``gradio_client``'s ``auth=``, which posts the same form): a body
  of at most ``MAX_BODY`` bytes, the cheap checks on the event loop (name length, lockouts, the
  address's rate: a flood is refused without hashing anything), then the secret's check in a
  worker thread, at most ``CONCURRENT_CHECKS`` at a time. A right one gets Gradio's own token
  cookies, so all of Gradio's routes accept it as they would their own sign-in; the answer is JSON
  (``{"success": true}``, or ``{"detail": message}`` with 401, 400, 413 or 429 and Retry-After);
- every other request: a token whose sign-in has ended (``SignIn.token_holds``: too old, PIN
  changed, student removed) is taken out of Gradio's table first, so Gradio answers 401 and the
  page shows the sign-in page again;
- uploads (``/gradio_api/upload``) only from the teacher: no student page has a file input.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import anyio
from jinja2 import Environment, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from ..service.auth import MAX_SECRET_LENGTH
from ..service.roster import MAX_NAME_LENGTH
from ..service.text import text_problem
from .auth import SignIn
from .theme import LOGO

MAX_BODY = 4096  # a name and a password, form-encoded, with room to spare
CONCURRENT_CHECKS = 2  # scrypt checks at once: the rest wait their turn without holding threads
PAGE_PATH = Path(__file__).with_name("signin.html")

_checks = anyio.CapacityLimiter(CONCURRENT_CHECKS)
_template = Environment(autoescape=select_autoescape(default=True)).from_string(
    PAGE_PATH.read_text(encoding="utf-8"))


def signin_page(message: str = "", username: str = "", *, status: int = 200) -> HTMLResponse:
    html = _template.render(logo=LOGO, message=message, username=username, max_name=MAX_NAME_LENGTH,
                            max_secret=MAX_SECRET_LENGTH)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


class SignInGate:
    """ASGI middleware (Starlette's ``Middleware(SignInGate, signin=...)``); see the module notes."""

    def __init__(self, app, *, signin: SignIn) -> None:
        self.app = app
        self.signin = signin

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not self.signin.required:
            await self.app(scope, receive, send)
            return
        gradio_app = scope["app"]
        request = Request(scope, receive)
        token = _token(request, gradio_app.cookie_id)
        signed_in = self.signin.token_holds(token) if token in gradio_app.tokens else False
        path = scope["path"].rstrip("/") or "/"
        method = scope["method"]
        response: Response | None = None
        if path == "/login" and method == "POST":
            response = await self._sign_in(request, gradio_app)
        elif path == "/login" and method in ("GET", "HEAD"):
            response = RedirectResponse(_root(request), status_code=303) if signed_in else signin_page()
        elif path == "/" and method in ("GET", "HEAD") and not signed_in:
            response = signin_page()
        elif path.endswith("/gradio_api/upload") and signed_in and gradio_app.tokens.get(token) != "teacher":
            response = PlainTextResponse("Only the teacher uploads files.", status_code=403)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    async def _sign_in(self, request: Request, gradio_app) -> Response:
        wants_page = "text/html" in request.headers.get("accept", "") and "json" not in request.headers.get("accept", "")
        form, problem = await _read_form(request)
        if problem is not None:
            return _refused(problem, 413 if "too long" in problem else 400, wants_page)
        username, secret = form.get("username", "").strip(), form.get("password", "")
        address = request.client.host if request.client else "unknown"
        result = self.signin.screen(username, secret, address)
        if result is None:
            result = await anyio.to_thread.run_sync(self.signin.verify, username, secret, address, limiter=_checks)
        if result.actor is None:
            status = 429 if result.retry_after_s else (400 if "at most" in (result.refusal or "") else 401)
            response = _refused(result.refusal or "Sign-in failed.", status, wants_page, username=username)
            if result.retry_after_s:
                response.headers["Retry-After"] = str(result.retry_after_s)
            return response
        token = self.signin.start(result, gradio_app.tokens)
        response = (RedirectResponse(_root(request), status_code=303) if wants_page
                    else JSONResponse({"success": True}))
        max_age = int(self.signin.max_age_s)
        # The same two cookies Gradio's own sign-in sets, so its routes take them as their own.
        response.set_cookie(f"access-token-{gradio_app.cookie_id}", token, max_age=max_age, httponly=True,
                            samesite="none", secure=True)
        response.set_cookie(f"access-token-unsecure-{gradio_app.cookie_id}", token, max_age=max_age, httponly=True)
        return response


async def _read_form(request: Request) -> tuple[dict[str, str], str | None]:
    """The posted form's fields (first value each), or what is wrong with the body. Stops reading
    at ``MAX_BODY`` bytes: a megabyte of "name" is refused before it is in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        return {}, f"The sign-in form is too long (at most {MAX_NAME_LENGTH} characters for a name)."
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return {}, f"The sign-in form is too long (at most {MAX_NAME_LENGTH} characters for a name)."
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            data = json.loads(body.decode("utf-8"))
            fields = {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}
        else:
            parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, errors="strict")
            fields = {k: v[0] for k, v in parsed.items()}
    except (UnicodeDecodeError, ValueError):
        return {}, "The sign-in form is not valid text: type your name and PIN again."
    for name in ("username", "password"):
        problem = text_problem(fields.get(name, ""))
        if problem is not None:
            return {}, f"The {'name' if name == 'username' else 'PIN or password'} contains {problem}."
    return fields, None


def _refused(message: str, status: int, wants_page: bool, *, username: str = "") -> Response:
    if wants_page:
        return signin_page(message, username[:MAX_NAME_LENGTH], status=status)
    return JSONResponse({"detail": message}, status_code=status)


def _token(request: Request, cookie_id: str) -> str | None:
    return (request.cookies.get(f"access-token-{cookie_id}")
            or request.cookies.get(f"access-token-unsecure-{cookie_id}"))


def _root(request: Request) -> str:
    return (request.scope.get("root_path") or "").rstrip("/") + "/"
