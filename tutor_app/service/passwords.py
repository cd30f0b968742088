"""Salted, slow hashes for PINs and the teacher's password, and constant-time checks.

A 6-digit PIN has only a million values, so the hash must be slow (scrypt) and salted per
student: a copied roster file must not give the PINs away in seconds. The parameters are
stored inside each hash so they can be raised later without invalidating old ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P, DKLEN = 2**14, 8, 1, 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=256 * 1024 * 1024)


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    return "$".join([SCHEME, str(N), str(R), str(P), _b64(salt), _b64(_derive(secret, salt, N, R, P, DKLEN))])


def verify_secret(secret: str, encoded: str | None) -> bool:
    """False for a wrong secret and for a missing or damaged hash (a hand-edited roster line)."""
    if not encoded:
        # Spend the same time as a real check, so a wrong name cannot be told from a wrong PIN.
        _derive(secret, b"\0" * 16, N, R, P, DKLEN)
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != SCHEME:
            return False
        expected = _unb64(digest)
        got = _derive(secret, _unb64(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def new_pin(digits: int = 6) -> str:
    return f"{secrets.randbelow(10 ** digits):0{digits}d}"


def new_password() -> str:
    """A password a teacher can type: 4 groups of 4 letters and digits without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
