"""Reading one file: every way a saved file can be wrong becomes an error naming file, line and
field path, never an exception; and a good file keeps what the teacher typed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curriculum_helpers import UNIT, assert_error, broken, line_of, load, write
from tutor_app.curriculum.errors import CurriculumError
from tutor_app.curriculum.loader import curriculum_files, load_file
from tutor_app.curriculum.validate import validate_loaded
from tutor_app.curriculum.schema import ConversationUnit, Rubric, ScaffoldHint, Unit


def test_valid_unit_loads_with_text_kept_as_typed(tmp_path):
    path = write(tmp_path, "algebra.yaml", broken(UNIT, "answer: x = 4", "answer: 007"))
    loaded = load_file(path)
    assert loaded.errors == []
    unit = loaded.item
    assert isinstance(unit, Unit) and unit.kind == "problems"  # the default kind was filled in
    step = unit.problems[0].steps[0]
    assert step.answer == "2x = 8"
    assert isinstance(step.hints[1], ScaffoldHint) and step.hints[1].answer == "8"
    assert unit.problems[0].steps[1].answer == "007"  # not the int 7 that YAML 1.1 would make
    assert unit.problems[0].statement == "Solve $\\frac{1}{2} \\cdot 4x + 3 = 11$"


def test_yes_and_numbers_stay_answers_but_fill_typed_fields(tmp_path):
    text = broken(UNIT, "answer: x = 4\n        check: equation",
                  "answer: yes\n        check: choice\n        choices: [yes, no]\n        case_sensitive: yes")
    text = broken(text, "name: Solving equations", "name: Solving equations\n    bkt: {p_init: 0.3}")
    unit = load_file(write(tmp_path, "a.yaml", text)).item
    step = unit.problems[0].steps[1]
    assert step.answer == "yes" and step.choices == ["yes", "no"] and step.case_sensitive is True
    assert unit.skills[0].bkt.p_init == 0.3


def test_unknown_checker_names_file_line_and_path(tmp_path):
    text = broken(UNIT, "answer: x = 4\n        check: equation", "answer: x = 4\n        check: equasion")
    path = write(tmp_path, "algebra/linear.yaml", text)
    errors = load_file(path).errors
    error = assert_error(errors, path, line_of(text, "equasion"), "problems[0].steps[1].check",
                         "unknown checker 'equasion'")
    assert str(error).endswith(f"linear.yaml:{line_of(text, 'equasion')}: problems[0].steps[1].check: "
                               "unknown checker 'equasion' (expected one of: text, numeric, expression, equation, "
                               "choice, regex, open)")
    assert len(errors) == 1


def test_message_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    text = broken(UNIT, "check: numeric}", "check: numerik}")
    path = write(tmp_path, "curricula/algebra/linear.yaml", text)
    monkeypatch.chdir(tmp_path)
    [error] = load_file(path).errors
    assert str(error) == (f"curricula/algebra/linear.yaml:{line_of(text, 'numerik')}: problems[0].steps[0].hints[1]"
                          f".check: unknown checker 'numerik' (expected one of: text, numeric, expression, equation, "
                          f"choice, regex, open)")


def test_misspelt_field_suggests_the_right_one(tmp_path):
    text = broken(UNIT, "        hints:", "        hitns:")
    path = write(tmp_path, "a.yaml", text)
    assert_error(load_file(path).errors, path, line_of(text, "hitns"), "problems[0].steps[0].hitns",
                 "unknown field 'hitns' (did you mean 'hints'?)")


def test_missing_required_field_points_at_its_parent(tmp_path):
    text = broken(UNIT, "        prompt: Now find x.\n", "")
    path = write(tmp_path, "a.yaml", text)
    assert_error(load_file(path).errors, path, line_of(text, "- id: solve"), "problems[0].steps[1].prompt",
                 "required field is missing")


def test_bad_id_and_wrong_types(tmp_path):
    text = broken(UNIT, "- id: two-step", "- id: Two Step")
    text = broken(text, "        skills: [solving]\n        hints:", "        skills: solving\n        hints:")
    text = broken(text, "feedback: You added 3 instead of subtracting it.", "feedback: [a, b]")
    path = write(tmp_path, "a.yaml", text)
    errors = load_file(path).errors
    assert_error(errors, path, line_of(text, "Two Step"), "problems[0].id", "'Two Step' is not a valid id")
    assert_error(errors, path, line_of(text, "skills: solving"), "problems[0].steps[0].skills", "list")
    assert_error(errors, path, line_of(text, "feedback: [a, b]"), "problems[0].steps[0].misconceptions[0].feedback",
                 "expected a text, found a list")


def test_scaffold_hint_errors_name_the_hint_not_union_members(tmp_path):
    text = broken(UNIT, "{scaffold: 'What is 11 - 3?', answer: \"8\", check: numeric}",
                  "{scaffold: 'What is 11 - 3?', answr: \"8\", check: numeric}")
    path = write(tmp_path, "a.yaml", text)
    errors = load_file(path).errors
    assert {e.path for e in errors} == {"problems[0].steps[0].hints[1].answr", "problems[0].steps[0].hints[1].answer"}
    assert all("ScaffoldHint" not in str(e) and ".str" not in e.path for e in errors)
    assert_error(errors, path, line_of(text, "answr"), "problems[0].steps[0].hints[1].answr", "did you mean 'answer'")


@pytest.mark.parametrize("content, line, words", [
    ("id: a\ntitle: [unclosed\n", 2, "a [ opened on this line is never closed"),
    ("id: a\nproblems: [\n", 2, "a [ opened on this line is never closed"),
    ("id: a\nhint: {scaffold: [1, 2]\n\n", 2, "a { opened on this line is never closed"),
    ("id: a\ntitle: 'open quote\n\nnext: 1\n", 2, "a quote opened on this line is never closed"),
    ("id: a\nhint: {scaffold: What is 3 + 4?, answer: 7}\n", 2, "put texts containing , ? : # [ ] { } in quotes"),
    ("id: a\n\ttitle: tab\n", 2, "indent with spaces, not tabs"),
    ("id: a\ntitle: Ratio: 3: 4 and more: here\n", 2, "needs quotes"),
    ("id: a\nstatement: \"$\\cdot$\"\n", 2, "single quotes"),
    ("id: a\n---\nid: b\n", 2, "one file holds one unit"),
])
def test_yaml_syntax_errors_have_a_line_and_a_hint(tmp_path, content, line, words):
    path = write(tmp_path, "bad.yaml", content)
    [error] = load_file(path).errors
    assert error.line == line and words in error.message and error.path == ""
    assert str(error).endswith(f"bad.yaml:{line}: {error.message}")


@pytest.mark.parametrize("quote", ['"', "'"])
def test_an_unclosed_quote_is_reported_where_it_opens_and_where_yaml_gave_up(tmp_path, quote):
    """YAML reads an unclosed quote on to the next quote character, lines further down, and
    stops only there: the error names the line the broken value starts on, and that one too."""
    opened = f"prompt: {quote}Subtract 3 from both sides."
    text = broken(UNIT, "prompt: Subtract 3 from both sides.", opened)
    text = text.replace("{scaffold: 'What is 11 - 3?', answer: \"8\", check: numeric}",
                        "{scaffold: What is 11 - 3?, answer: 8, check: numeric}")
    text = text.replace("answers: [2x = 14]", f"answers: [{quote}2x = 14{quote}]")  # the next quote, far below
    path = write(tmp_path, "a.yaml", text)
    [error] = load_file(path).errors
    gave_up = line_of(text, "2x = 14")
    assert error.line == line_of(text, opened) and gave_up - error.line >= 8
    assert f"quotes that starts on this line is not closed on it" in error.message
    assert f"line {gave_up}" in error.message and f"close the quote on line {error.line}" in error.message


def test_a_parser_error_names_the_block_it_was_reading(tmp_path):
    """PyYAML's context mark: where the block the parser was reading began, beside where it gave up."""
    text = broken(UNIT, "        answer: x = 4", "       answer: x = 4")
    path = write(tmp_path, "a.yaml", text)
    [error] = load_file(path).errors
    assert error.line == line_of(text, "answer: x = 4")
    assert f"(in the block collection that starts on line {line_of(text, '- id: isolate')};" in error.message


def test_latex_in_double_quotes_is_caught_before_it_loses_a_backslash(tmp_path):
    text = broken(UNIT, "statement: 'Solve $\\frac{1}{2} \\cdot 4x + 3 = 11$'",
                  "statement: \"Solve $\\frac{1}{2} x + 3 = 11$\"")
    path = write(tmp_path, "a.yaml", text)
    assert_error(load_file(path).errors, path, line_of(text, "statement:"), "problems[0].statement",
                 "'\\frac' would lose its backslash")


def test_duplicate_yaml_key_is_an_error_not_silently_dropped(tmp_path):
    text = broken(UNIT, "title: Algebra\n", "title: Algebra\ntitle: Algebra again\n")
    path = write(tmp_path, "a.yaml", text)
    error = assert_error(load_file(path).errors, path, 3, "title", "duplicate key 'title' (first written on line 2)")
    assert load_file(path).item is None and error


@pytest.mark.parametrize("content, words", [
    ("", "the file is empty"),
    ("# only a comment\n", "the file is empty"),
    ("- id: a\n- id: b\n", "found a list"),
    ("just some text\n", "found 'just some text'"),
])
def test_empty_and_non_mapping_files(tmp_path, content, words):
    path = write(tmp_path, "odd.yaml", content)
    [error] = load_file(path).errors
    assert words in error.message and error.line == 1


def test_non_utf8_file_names_the_line(tmp_path):
    path = write(tmp_path, "latin1.yaml", "id: a\ntitle: Br\u00fcche\n".encode("latin-1"))
    [error] = load_file(path).errors
    assert error.line == 2 and "not UTF-8" in error.message


def test_utf8_bom_is_accepted(tmp_path):
    path = write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + UNIT.encode())
    assert load_file(path).errors == []


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "secret.yaml", UNIT)
    real_read = type(path).read_bytes

    def refuse(self):
        if self.name == "secret.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(type(path), "read_bytes", refuse)
    [error] = load_file(path).errors
    assert error.line is None and error.path == ""
    assert str(error).endswith("secret.yaml: cannot read the file: Permission denied")


def test_a_file_path_that_is_a_folder_is_reported(tmp_path):
    (tmp_path / "folder.yaml").mkdir()
    [error] = load_file(tmp_path / "folder.yaml").errors
    assert "cannot read the file" in error.message


def test_a_folder_named_like_a_file_is_not_a_crash(tmp_path):
    (tmp_path / "weird.yaml").mkdir()
    write(tmp_path, "ok.yaml", UNIT)
    assert curriculum_files(tmp_path) == [tmp_path / "ok.yaml"]


def test_unknown_kind(tmp_path):
    text = "kind: quiz\n" + UNIT
    path = write(tmp_path, "a.yaml", text)
    assert_error(load_file(path).errors, path, 1, "kind", "unknown kind 'quiz'")


def test_other_kinds_select_their_models(tmp_path):
    rubric = write(tmp_path, "r.yaml", "kind: rubric\nid: essay\ntitle: Essay\ncriteria:\n  - id: clarity\n"
                                       "    name: Clarity\n    levels:\n      - {score: 0, description: unclear}\n"
                                       "      - {score: 1, description: clear}\n")
    talk = write(tmp_path, "c.yaml", "kind: conversation\nid: cafe\ntitle: At the cafe\ntarget_language: es\n"
                                     "level: A1\nscenario: Order a drink\ncharacter: a waiter\nopening: Hola\n")
    assert isinstance(load_file(rubric).item, Rubric)
    assert isinstance(load_file(talk).item, ConversationUnit)


def test_files_at_any_depth_yaml_and_yml_hidden_skipped(tmp_path):
    write(tmp_path, "a.yaml", UNIT)
    write(tmp_path, "deep/er/b.yml", broken(UNIT, "id: algebra", "id: algebra-2"))
    write(tmp_path, ".hidden/c.yaml", "oops: [")
    write(tmp_path, ".#d.yaml", "oops: [")
    write(tmp_path, "notes.txt", "not a curriculum")
    assert [p.relative_to(tmp_path).as_posix() for p in curriculum_files(tmp_path)] == ["a.yaml", "deep/er/b.yml"]
    library = load(tmp_path)
    assert set(library.units) == {"algebra", "algebra-2"} and library.errors == []


def test_no_exception_escapes_for_any_bytes(tmp_path):
    """Garbage of every sort is reported, never raised."""
    samples = [b"\x00\x01\x02", b"{", b"id: [1, {2: 3}]", b"*alias", b"&a [*a]", b"!!python/object:os.system {}",
               b"id: !!binary aGVsbG8=", b"? [a]\n: b\n", b"kind: 5\n", b"kind: [problems]\nid: x\n",
               b"[" * 5000 + b"]" * 5000, b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
                   b"%c: &%c [" % (98 + i, 98 + i) + b", ".join([b"*%c" % (97 + i)] * 10) + b"]\n" for i in range(8))]
    for i, data in enumerate(samples):
        loaded = load_file(write(tmp_path, f"g{i}.yaml", data))
        assert loaded.item is None and loaded.errors, data
        assert all(isinstance(e, CurriculumError) for e in loaded.errors)


# Property: whatever a teacher's editor saves, the loader answers with a unit or with errors that
# name the file, never with an exception, and in bounded time. Edits start from a real unit, so
# they reach deep into the schema and the validator, not only the YAML parser.
SHIPPED = (Path(__file__).resolve().parent.parent / "curricula" / "math" / "linear-equations.yaml").read_text(
    encoding="utf-8")


@st.composite
def edited_units(draw) -> str:
    text = SHIPPED
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        start = draw(st.integers(min_value=0, max_value=len(text)))
        end = draw(st.integers(min_value=start, max_value=min(len(text), start + 200)))
        insert = draw(st.one_of(st.just(""), st.text(max_size=40),
                                st.sampled_from(["{", "[", "]", ":", "- ", "&a", "*a", "!!python/name:os.system",
                                                 "\t", "\n  - ", "check: nope", "answer: [", "'", '"\\x"', "\ud800"])))
        text = text[:start] + insert + text[end:]
    return text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(edited_units(), st.text(max_size=400), st.binary(max_size=400)))
def test_any_edit_of_a_unit_gives_the_unit_or_errors_that_name_the_file(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("edited")
    path = folder / "unit.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8", "surrogatepass"))  # an editor may save anything
    start = time.perf_counter()
    loaded = load_file(path)
    errors = list(loaded.errors)
    if loaded.item is not None:
        errors += validate_loaded(loaded, set())
    assert loaded.item is not None or errors
    assert all(isinstance(e, CurriculumError) and "unit.yaml" in str(e) for e in errors), errors
    assert time.perf_counter() - start < 10.0
