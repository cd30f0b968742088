"""Stable pseudonyms for students in exported training data, and the held-out split that follows them.

A plain hash of a name is no pseudonym: anyone with the class list hashes every name and reads
the export back. So each pseudonym is an HMAC-SHA256 of the name under a secret that belongs
to this install (``export-secret`` in the data folder, made on first use, readable by its owner
only, never exported): the same student gets the same pseudonym in every export from this
school, and nobody without the secret can tell who it is.

The train/held-out split is decided per student by the same keyed hash (another domain of
it), as a share: a student is held out when their hash falls below ``heldout_share``. So the
split is deterministic, no student's items are ever on both sides, and a student keeps their
side as the class grows and exports are repeated: an adapter is never trained on a student
whose items evaluated the adapter before it.

Names are also taken out of the exported *text* (a student who types their own name, a tutor
reply that greets them): every known student name, as a whole word, becomes its pseudonym.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Iterable, Literal

from ..service.roster import name_key

SECRET_FILE = "export-secret"
SECRET_BYTES = 32
PREFIX = "student-"
DIGITS = 10  # hex digits of the pseudonym: 40 bits, no collision in any school's lifetime of students
Side = Literal["train", "heldout"]


def install_secret(data_dir: str | Path) -> bytes:
    """This install's secret, made (owner-only) the first time it is needed."""
    path = Path(data_dir) / SECRET_FILE
    try:
        secret = path.read_bytes()
        if len(secret) >= SECRET_BYTES:
            return secret
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(SECRET_BYTES)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(secret)
    return secret


class Pseudonyms:
    def __init__(self, secret: bytes, *, heldout_share: float = 0.2) -> None:
        if len(secret) < 16:
            raise ValueError("the export secret is too short")
        if not 0.0 <= heldout_share < 1.0:
            raise ValueError(f"the held-out share must be from 0 up to (not including) 1, not {heldout_share}")
        self._secret = secret
        self.heldout_share = heldout_share

    def _digest(self, domain: str, name: str) -> bytes:
        return hmac.new(self._secret, f"{domain}\0{name_key(name)}".encode("utf-8"), hashlib.sha256).digest()

    def of(self, name: str) -> str:
        """The student's pseudonym: ``student-`` and 10 hex digits, the same for every spelling of the name."""
        return PREFIX + self._digest("pseudonym", name).hex()[:DIGITS]

    def side(self, name: str) -> Side:
        """Which side of the split all of the student's items go to."""
        position = int.from_bytes(self._digest("split", name)[:8], "big") / 2 ** 64
        return "heldout" if position < self.heldout_share else "train"

    def scrub(self, text: str, names: Iterable[str]) -> str:
        """``text`` with every name of ``names`` (whole words, any case) replaced by its pseudonym."""
        for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
            pattern = re.compile(r"(?<!\w)" + r"\s+".join(re.escape(part) for part in name.split()) + r"(?!\w)",
                                 re.IGNORECASE)
            text = pattern.sub(self.of(name), text)
        return text
