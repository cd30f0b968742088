"""The real app, started the way ``python app.py`` starts it, for the API and browser tests.

A small unit written for these tests (every feature the page shows: a bug rule, a scaffold hint,
a bottom-out hint, two steps, a misconception library) goes into a temporary curricula folder;
the database is a temporary SQLite *file* (as in production, so WAL and threads behave the same);
the model is a ``ScriptedBackend``. ``serve`` is the function ``launch`` uses, so the queue,
the sign-in and the theme are the production ones.
"""

from __future__ import annotations

import inspect
import socket
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import gradio as gr
import pytest
from playwright.sync_api import expect

from tutor_app.bootstrap import Services, create_services
from tutor_app.runtime.fake import ScriptedBackend
from tutor_app.service.roster import add_students, roster_path
from tutor_app.settings import Settings
from tutor_app.ui.app import create_app
from tutor_app.ui.launch import serve
from tutor_app.ui.text_guard import unguarded

UNIT_ID = "equations-test"
TEACHER_PASSWORD = "correct-horse-battery"

UNIT_YAML = """\
id: equations-test
title: Two-step equations
subject: math
language: en
level: Grade 8
skills:
  - id: inverse-operations
    name: Use inverse operations
  - id: divide-coefficient
    name: Divide by the coefficient
misconceptions:
  - id: added-instead-of-subtracted
    description: Applies the same operation instead of the inverse one
  - id: subtracted-coefficient
    description: Subtracts the coefficient instead of dividing by it
problems:
  - id: two-step-1
    title: Two-step equation
    statement: "Solve for $x$: $2x + 3 = 11$"
    steps:
      - id: isolate
        prompt: "Subtract 3 from both sides. What equation do you get?"
        answer: "2x = 8"
        check: equation
        skills: [inverse-operations]
        hints:
          - "Which operation undoes $+ 3$?"
          - {scaffold: "What is $11 - 3$?", answer: "8", check: numeric}
          - "$2x + 3 - 3 = 11 - 3$, so $2x = 8$."
        misconceptions:
          - id: added-instead-of-subtracted
            answers: ["2x = 14"]
            feedback: "It looks like you added 3 to both sides. Which operation undoes $+3$?"
      - id: solve
        prompt: "Now find $x$."
        answer: "x = 4"
        check: equation
        skills: [divide-coefficient]
        hints: ["Divide both sides by 2.", "$x = 8 / 2 = 4$"]
        misconceptions:
          - id: subtracted-coefficient
            answers: ["x = 6"]
            feedback: "You subtracted 2. But $2x$ means 2 times $x$: what undoes multiplying by 2?"
  - id: two-step-2
    title: Another two-step equation
    statement: "Solve for $x$: $3x - 5 = 10$"
    steps:
      - id: isolate
        prompt: "Add 5 to both sides. What equation do you get?"
        answer: "3x = 15"
        check: equation
        skills: [inverse-operations]
        hints: ["Which operation undoes $-5$?", "$3x - 5 + 5 = 10 + 5$, so $3x = 15$."]
      - id: solve
        prompt: "Now find $x$."
        answer: "x = 5"
        check: equation
        skills: [divide-coefficient]
        hints: ["Divide both sides by 3.", "$x = 15 / 3 = 5$"]
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_curricula(root: Path) -> Path:
    curricula = root / "curricula"
    curricula.mkdir(parents=True, exist_ok=True)
    (curricula / "equations.yaml").write_text(UNIT_YAML, encoding="utf-8")
    return curricula


def build_services(root: Path, model: ScriptedBackend, *, require_login: bool = False) -> Services:
    settings = Settings(curricula=write_curricula(root), data_dir=root / "data", models_dir=root / "models",
                        db_url=f"sqlite:///{root / 'tutor.sqlite3'}", require_login=require_login, backend="fake")
    return create_services(settings, model=model)


def add_roster(services: Services, names: list[str]) -> dict[str, str]:
    """Students with fresh PINs (name -> PIN), and the teacher's password set."""
    pins = add_students(roster_path(services.settings), names) if names else {}
    if not services.auth.has_teacher_password():
        services.auth.set_teacher_password(TEACHER_PASSWORD)
    return pins


@dataclass
class RunningApp:
    url: str
    services: Services
    model: ScriptedBackend
    demo: gr.Blocks | None = None


@contextmanager
def running_app(root: Path, model: ScriptedBackend, *, require_login: bool = False,
                students: list[str] = (), clock=time.monotonic) -> Iterator[tuple[RunningApp, dict[str, str]]]:
    services = build_services(root, model, require_login=require_login)
    pins = add_roster(services, list(students))  # the teacher password too: it opens the Teacher tab
    demo = create_app(services, clock=clock)
    url = serve(demo, host="127.0.0.1", port=free_port(), block=False, quiet=True)
    try:
        yield RunningApp(url=url, services=services, model=model, demo=demo), pins
    finally:
        demo.close()
        services.close()


class SignedInRequest:
    """What a handler reads of a request: who signed in."""

    def __init__(self, username: str) -> None:
        self.username = username


def handlers_refuse(demo, username: str, *, modules: set[str], names: set[str] = frozenset()) -> list[str]:
    """Call every page handler defined in ``modules`` (or named in ``names``) as ``username``
    with empty inputs; each must leave the page alone (``gr.skip()``) and warn that only the
    teacher may do this. Returns the names of the handlers called."""
    called = []
    for block_fn in demo.fns.values():
        handler = unguarded(block_fn.fn)  # as written, below the app's text check
        original = getattr(handler, "__wrapped__", None)
        if original is None or not (original.__module__ in modules or original.__name__ in names):
            continue
        params = inspect.signature(handler).parameters
        args = {name: None for name in params if name not in ("request", "progress")}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert handler(**args, request=SignedInRequest(username)) == gr.skip(), original.__name__
        assert any("Only the teacher" in str(w.message) for w in caught), original.__name__
        called.append(original.__name__)
    return called


# browser -------------------------------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 30_000  # generous: two CPU cores are shared by many test runs


def launch_chromium(playwright):
    """Debian's Chromium, never a downloaded one."""
    expect.set_options(timeout=TIMEOUT_MS)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def chromium_browser():
    """One Chromium for a test module (import it into the module that uses it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def open_page(owner, url: str, viewport: dict | None = None, *, signed_in: bool = True):
    """A page on ``url`` in ``owner`` (a browser, or a context that keeps this browser's storage),
    once the app has loaded it (the header is filled by the page's load event). ``signed_in=False``
    for the sign-in form."""
    page = owner.new_page(viewport=viewport) if viewport else owner.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    if signed_in:
        wait_until_loaded(page)
    return page


def wait_until_loaded(page) -> None:
    expect(page.locator("#app-header .brand")).to_be_visible()


def text_field(page, elem_id: str):
    """Gradio renders a one-line Textbox as a textarea or an input, depending on its options."""
    return page.locator(f"#{elem_id} textarea, #{elem_id} input").first


def sign_in(page, username: str, secret: str) -> None:
    """Through the app's own sign-in page."""
    page.locator("input[type=text]").first.fill(username)
    page.locator("input[type=password]").first.fill(secret)
    page.get_by_role("button", name="Sign in").click()
    wait_until_loaded(page)


def unlock_teacher(page, password: str = TEACHER_PASSWORD) -> None:
    """Without sign-in, the Teacher tab opens with the teacher password."""
    page.locator("#teacher-tab-button").click()
    expect(page.locator("#teacher-lock")).to_be_visible()  # the tab's content is mounted before typing
    field = text_field(page, "teacher-unlock-password")
    for _ in range(10):  # on a loaded machine the tab's first render can blank what was just typed
        field.fill(password)
        try:
            expect(field).to_have_value(password, timeout=3000)  # what the button sends is what was typed
            break
        except AssertionError:
            continue
    expect(field).to_have_value(password)
    page.locator("#teacher-unlock").click()
    expect(page.locator("#teacher-pages")).to_be_visible()
