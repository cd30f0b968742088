"""The errors every feature raises for a bad request, shown to the person as written.

The UI and the API turn a ``TutorError`` into a plain notice (``ui/errors.py``); anything else
is a bug on our side and gets a generic sentence. So the message must be plain language and
name what was wrong: "There is no session 'abc'. Start one with start_session."
"""

from contextlib import contextmanager
from typing import Iterator

from ..storage.database import StorageUnavailable


class TutorError(Exception):
    """A bad request from a caller (unknown id, not allowed, empty input)."""


class NotFound(TutorError):
    pass


class Forbidden(TutorError):
    pass


class NotSaved(TutorError):
    """The database could not store what the person just did (full, read-only, gone)."""


@contextmanager
def saving(what: str) -> Iterator[None]:
    """Turn the storage failing inside the block into ``NotSaved`` telling the person that ``what``
    ("your answer") was not saved and to try again; the cause goes to the teacher's page and the
    log (``Database.health``), not to the student."""
    try:
        yield
    except StorageUnavailable as exc:
        raise NotSaved(f"{what[:1].upper()}{what[1:]} was not saved: the school's database cannot store anything "
                       "right now. Please try again in a minute; your teacher can see what is wrong.") from exc
