"""The errors every feature raises for a bad request, shown to the person as written.

The UI and the API turn a ``TutorError`` into a plain notice (``ui/errors.py``); anything else
is a bug on our side and gets a generic sentence. So the message must be plain language and
name what was wrong: "There is no session 'abc'. Start one with start_session."
"""


class TutorError(Exception):
    """A bad request from a caller (unknown id, not allowed, empty input)."""


class NotFound(TutorError):
    pass


class Forbidden(TutorError):
    pass
