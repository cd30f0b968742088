"""Turn one curriculum file into a validated model, or into errors that say file, line and field.

Everything that can go wrong with a file a teacher saved (unreadable, not UTF-8, empty, YAML
syntax, a list at the top, a typo in a field name, a wrong type) comes back as
``CurriculumError`` values, never as an exception: one bad file must not stop the others.
Whole-unit rules (duplicate ids, unknown skills...) are in ``validate.py``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from pydantic import BaseModel, TypeAdapter, ValidationError

from . import schema
from .errors import CurriculumError, field_path
from .yaml_source import SourceMap, YamlSyntaxError, describe, parse_yaml

Loaded = Union[schema.Unit, schema.ConversationUnit, schema.Rubric]
KINDS = ("problems", "conversation", "rubric")
ANY_UNIT = TypeAdapter(schema.AnyUnit)
MAX_FILE_BYTES = 2_000_000  # a curriculum is text a person wrote; anything bigger is a mistake

# Union members pydantic names in error locations for plain values (as opposed to models).
PRIMITIVE_TAGS = {"str", "int", "float", "bool", "none", "tuple[int, int]"}


def _field_names() -> list[str]:
    names: set[str] = set()
    for model in vars(schema).values():
        if isinstance(model, type) and issubclass(model, BaseModel):
            names.update(model.model_fields)
    return sorted(names)


FIELD_NAMES = _field_names()


@dataclass
class LoadedFile:
    """The outcome of reading one file: a model when it passed the schema, and its problems."""

    path: Path
    item: Loaded | None = None
    source: SourceMap = field(default_factory=SourceMap)
    errors: list[CurriculumError] = field(default_factory=list)
    text: str | None = None  # what was read, so a valid file can be kept as the very text that passed

    def error(self, loc: tuple, message: str, line: int | None = None) -> CurriculumError:
        """An error at field path ``loc`` of this file, on the line where that field was written."""
        return CurriculumError(self.path, line if line is not None else self.source.line(loc), field_path(loc), message)


def curriculum_files(root: Path) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` below ``root`` at any depth, in a stable order; hidden files and
    folders (editor swap files, ``.git``) are skipped."""
    root = Path(root)
    found = {p for pattern in ("*.yaml", "*.yml") for p in root.rglob(pattern)
             if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def load_file(path: Path) -> LoadedFile:
    loaded = LoadedFile(Path(path))
    text = loaded.text = _read_text(loaded)
    if text is None:
        return loaded
    try:
        parsed = parse_yaml(text)
    except YamlSyntaxError as exc:
        loaded.errors.append(loaded.error((), exc.message, exc.line))
        return loaded
    loaded.source = parsed.source
    loaded.errors.extend(loaded.error(i.loc, i.message, i.line) for i in parsed.issues)
    data = parsed.data
    if data is None:
        loaded.errors.append(loaded.error((), "the file is empty; a unit needs at least id:, title: and its content"))
        return loaded
    if not isinstance(data, dict):
        loaded.errors.append(loaded.error((), f"expected the unit's fields (id:, title:, ...) at the top level, "
                                              f"found {describe(data)}"))
        return loaded
    kind = data.setdefault("kind", "problems")
    if kind not in KINDS:
        loaded.errors.append(loaded.error(("kind",), f"unknown kind {kind!r} (expected one of: {', '.join(KINDS)}; "
                                                     f"leave it out for a problem unit)"))
        return loaded
    try:
        item = ANY_UNIT.validate_python(data)
    except ValidationError as exc:
        loaded.errors.extend(loaded.error(loc, message) for loc, message in schema_errors(exc, data))
        return loaded
    if not loaded.errors:
        loaded.item = item
    return loaded


def _read_text(loaded: LoadedFile) -> str | None:
    try:
        raw = loaded.path.read_bytes()
    except OSError as exc:
        loaded.errors.append(loaded.error((), f"cannot read the file: {exc.strerror or exc}"))
        return None
    if len(raw) > MAX_FILE_BYTES:
        loaded.errors.append(loaded.error((), f"the file is {len(raw) // 1000} kB; a curriculum file may be at most "
                                              f"{MAX_FILE_BYTES // 1000} kB"))
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        loaded.errors.append(loaded.error((), "the file is not UTF-8 text; save it as UTF-8 in your editor", line))
        return None


def schema_errors(exc: ValidationError, data: dict) -> list[tuple[tuple, str]]:
    """Pydantic's errors as (field path, teacher-readable message), one per real problem.

    Pydantic reports a failed ``Union`` once per member (``hints[1].str``, ``hints[1].ScaffoldHint.check``);
    we keep the member that fits what the teacher wrote and drop the member names from the path.
    """
    raw = list(exc.errors(include_url=False))
    kind = data.get("kind")
    entries = []
    for err in raw:
        loc = tuple(err["loc"])
        if loc and loc[0] == kind:  # the discriminated union's tag
            loc = loc[1:]
        clean, sites = _split_union_tags(loc, data, err["type"])
        entries.append((clean, sites, err))
    entries = _pick_union_members(entries)
    seen, result = set(), []
    for clean, sites, err in entries:
        item = (clean, _message(err, clean, sites))
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def _split_union_tags(loc: tuple, data: object, error_type: str) -> tuple[tuple, list[tuple]]:
    """Separate real keys/indexes from union member names; each site is (path so far, member, value there)."""
    clean: list = []
    sites: list[tuple] = []
    current = data
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(current, dict) and part in current:
            clean.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            clean.append(part)
            current = current[part]
        elif last and error_type == "missing":
            clean.append(part)
        else:
            sites.append((tuple(clean), str(part), current))
    return tuple(clean), sites


def _pick_union_members(entries: list) -> list:
    """At each union site keep only the errors of the member that best fits the value written there."""
    site_members: dict[tuple, dict[str, int]] = {}
    site_values: dict[tuple, object] = {}
    for _, sites, _ in entries:
        for where, member, value in sites:
            site_members.setdefault(where, {})
            site_members[where][member] = site_members[where].get(member, 0) + 1
            site_values[where] = value
    misfits: dict[tuple, int] = {}  # (site, member) -> unknown or missing fields: the shape does not fit
    for _, sites, err in entries:
        if err["type"] in ("missing", "extra_forbidden"):
            for where, member, _ in sites:
                misfits[(where, member)] = misfits.get((where, member), 0) + 1
    winners = {}
    for where, members in site_members.items():
        is_mapping = isinstance(site_values[where], dict)
        fitting = [m for m in members if (m not in PRIMITIVE_TAGS) == is_mapping] or list(members)
        # the member whose fields match what was written; then the fewest problems; ties: first declared
        winners[where] = min(fitting, key=lambda m: (misfits.get((where, m), 0), members[m]))
    return [e for e in entries if all(winners[where] == member for where, member, _ in e[1])]


def _message(err: dict, clean: tuple, sites: list[tuple]) -> str:
    kind, text, value = err["type"], err["msg"], err.get("input")
    if kind == "missing" and clean and isinstance(clean[-1], int):
        if "range" in clean:
            return "a range needs two whole numbers: [lowest, highest]"
        return f"item {clean[-1] + 1} is missing"
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(clean[-1]) if clean else "?"
        close = difflib.get_close_matches(name, FIELD_NAMES, n=1, cutoff=0.75)
        return f"unknown field {name!r}" + (f" (did you mean {close[0]!r}?)" if close and close[0] != name else "")
    if kind == "string_pattern_mismatch":
        return (f"{value!r} is not a valid id: use lowercase letters, digits and hyphens, starting with a letter "
                f"or digit (e.g. 'two-step-1')")
    if kind == "too_short" and isinstance(value, (list, dict)):
        need = err.get("ctx", {}).get("min_length", 1)
        return f"needs at least {need} item{'s' if need != 1 else ''}, found {len(value)}"
    if kind in ("string_type", "int_parsing", "float_parsing", "bool_parsing", "int_type", "float_type") \
            and isinstance(value, (dict, list)):
        wanted = {"string_type": "a text"}.get(kind, "a single value")
        return f"expected {wanted}, found {describe(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected fields (key: value lines) here, found {describe(value)}"
    if kind == "value_error":
        return text.removeprefix("Value error, ")
    if kind == "int_parsing":
        return f"expected a whole number, found {describe(value)}"
    if kind == "float_parsing":
        return f"expected a number, found {describe(value)}"
    if kind == "bool_parsing":
        return f"expected true or false, found {describe(value)}"
    return text[:1].lower() + text[1:]
