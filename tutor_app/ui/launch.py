"""Start the web app: build the services, sign-in, queue, and listen.

Rules kept here, in one place:
- Beyond loopback, or with ``--require-login``, everyone signs in (``settings.login_required``)
  through the app's own sign-in page and checks (``signin_gate.py``); ``serve`` refuses to
  listen beyond loopback without sign-in, whoever calls it.
- First run with no teacher password yet: in a terminal the teacher types one (twice); without
  a terminal (a service, a container) the auth service generates one and it is printed once, on
  the start-up line's next line. Either way only its hash is stored. It is needed without
  sign-in too: the Teacher tab opens only with it.
- Files: everything the process creates is owner-only (``private_umask``); uploads are limited
  to ``settings.upload_mb`` and only the teacher uploads.
- Queue: fast, deterministic events (checking, hints, the teacher's pages) run without a
  concurrency limit so they never wait behind the model; events that wait on the model share
  one concurrency group (``api.MODEL_GROUP``) and the model queue serialises the real work.
"""

from __future__ import annotations

import getpass
import logging
import sys

import gradio as gr
from starlette.middleware import Middleware

from ..service.errors import TutorError
from ..storage.private import private_umask
from .app import create_app
from .signin_gate import SignInGate
from .theme import create_theme, load_css

log = logging.getLogger("tutor_app.ui")

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(demo: gr.Blocks, *, host: str, port: int, block: bool = True, quiet: bool = False,
          upload_mb: int = 20) -> str:
    """Queue and launch ``demo`` (made by ``create_app``); return the local URL. Tests call this
    with ``block=False`` so they run the app exactly as ``python app.py`` does. Whether people
    sign in was decided when the app was made (``settings.login_required``); it is read back
    here so that the page's idea of who is calling and the sign-in can never disagree."""
    signin = demo.tutor_signin
    if host not in LOOPBACK and not signin.required:
        raise RuntimeError(f"refusing to listen on {host} without sign-in: students' data would be open to the network")
    demo.queue(default_concurrency_limit=None)
    # Gradio protects its routes when ``auth`` is set; the sign-in itself is the gate's, so
    # Gradio's own login route, were it ever reached, lets nobody in.
    auth = _signin_goes_through_the_gate if signin.required else None
    _, url, _ = demo.launch(
        server_name=host, server_port=port, auth=auth, max_file_size=f"{upload_mb}mb",
        app_kwargs={"middleware": [Middleware(SignInGate, signin=signin)]},
        prevent_thread_lock=not block, quiet=quiet, show_error=False, theme=create_theme(), css=load_css(),
        footer_links=["api"], enable_monitoring=False, ssr_mode=False, run_history=False,
    )
    return url


def _signin_goes_through_the_gate(username: str, password: str) -> bool:
    return False


def ensure_teacher_password(auth, *, interactive: bool, ask=getpass.getpass, say=print) -> str | None:
    """Make sure the teacher can sign in. Returns a generated password to print once, or None.
    The rules for a good password are the auth service's; its message is shown as is."""
    if auth.has_teacher_password():
        return None
    if not interactive:
        return auth.first_run_teacher_password()
    say("No teacher password is set yet. Choose one now (the teacher signs in as 'teacher').")
    while True:
        first = ask("Teacher password: ")
        if ask("Type it again: ") != first:
            say("The two did not match; try again.")
            continue
        try:
            auth.set_teacher_password(first)
            return None
        except TutorError as exc:
            say(str(exc))


def roster_notes(auth) -> list[str]:
    """What the teacher must know before students can sign in."""
    notes = []
    if not auth.roster():
        notes.append("No students on the roster yet: add them with  python app.py --generate-roster NAME ...")
    if auth.roster_problem:
        notes.append(f"The roster file has a problem (the last good version is used): {auth.roster_problem}")
    return notes


def curriculum_notes(report) -> list[str]:
    """Every curriculum error, one ``file:line: field: what`` line each, for the start-up output:
    whoever starts the app sees at once what the teacher's Curricula page would show."""
    if report is None or not report.errors:
        return []
    notes = [f"curricula: {report.summary()}"]
    notes += [f"  {error}" for error in report.errors]
    if report.kept:
        notes.append(f"  Students keep the last good version of {', '.join(report.kept)} until the file is fixed.")
    return notes


def model_summary(info) -> str:
    """The model's part of the start-up line. The model worker loads in the background while the
    app starts listening: its plan line is printed when it has one."""
    worker = (info.detail or {}).get("worker") or {}
    if worker.get("state") in ("starting", "restarting"):
        return f"{info.name} (llama.cpp, {worker['state']} in the model worker; its plan line follows)"
    if not info.available:
        return f"none ({info.problem or 'no model loaded'})"
    return f"{info.name} ({info.backend}) · {info.offload_plan or 'no offload plan'}"


def launch(settings, *, model=None) -> int:
    """``python app.py``. ``model`` replaces the configured backend (tests run the real app
    process with a scripted one)."""
    from ..bootstrap import create_services

    private_umask()  # the database, uploads, exports and logs: owner-only
    # Our own notes at INFO; libraries (Alembic announcing each migration...) only when it matters.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("tutor_app").setLevel(logging.INFO)
    services = create_services(settings, model=model)
    generated = ensure_teacher_password(services.auth, interactive=sys.stdin.isatty())
    demo = create_app(services)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    sign_in = "sign-in required" if settings.login_required else "no sign-in (this computer only)"
    print(f"tutor_app on http://{host}:{settings.port} · {sign_in} · model: {model_summary(services.model.info)}",
          flush=True)
    if generated:
        print(f"Teacher sign-in: user 'teacher', password '{generated}' (shown once; write it down).", flush=True)
    for note in services.notes + curriculum_notes(services.library.last_report):
        print(note, flush=True)
    from ..runtime.speed import start_speed_check

    start_speed_check(services.model, settings)  # times the model in its first minute (the planner learns from it)
    if settings.login_required:
        for note in roster_notes(services.auth):
            print(note, flush=True)
    try:
        serve(demo, host=settings.host, port=settings.port, quiet=True, upload_mb=settings.upload_mb)
    except OSError as exc:
        print(f"error: cannot listen on {settings.host}:{settings.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0
