"""Who is calling: the one identity every feature's calls take first, whatever page or API route
they came through. Sign-in (``auth.py``) makes it; the access checks (``access.py``) read it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Role = Literal["student", "teacher", "local"]


class Actor(BaseModel):
    """Who is calling. ``local`` is the single user of a loopback-only app without sign-in;
    it may act as any student and see the teacher pages."""

    role: Role
    student: str | None = None  # the signed-in student's name (role == "student")

    def may_access_student(self, student: str) -> bool:
        return self.role in ("teacher", "local") or self.student == student

    @property
    def is_teacher(self) -> bool:
        return self.role in ("teacher", "local")


LOCAL_ACTOR = Actor(role="local")
