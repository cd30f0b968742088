"""The order in which waiting calls get a place at the model (``scheduling.FairLine``)."""

from __future__ import annotations

from tutor_app.runtime.scheduling import FairLine, batch_places


def test_interactive_calls_go_before_batch_work_whatever_the_arrival():
    line: FairLine[str] = FairLine()
    line.add("grade-1", session=None, priority="batch")
    line.add("grade-2", session=None, priority="batch")
    line.add("student", session="s1", priority="interactive")
    assert line.ordered() == ["student", "grade-1", "grade-2"]
    assert [line.pop(), line.pop(), line.pop(), line.pop()] == ["student", "grade-1", "grade-2", None]


def test_sessions_take_turns_so_nobody_waits_behind_two_calls_of_another():
    line: FairLine[str] = FairLine()
    for i in range(3):
        line.add(f"ana-{i}", session="ana", priority="interactive")
    assert line.pop() == "ana-0"
    line.add("ben-0", session="ben", priority="interactive")  # arrives after ana's three
    assert line.pop() == "ben-0"
    line.add("ben-1", session="ben", priority="interactive")
    # ana was served before ben: her next call goes before ben's second
    assert line.ordered() == ["ana-1", "ben-1", "ana-2"]


def test_calls_without_a_session_keep_their_arrival_order():
    line: FairLine[int] = FairLine()
    for i in range(5):
        line.add(i, session=None, priority="batch")
    assert [line.pop() for _ in range(5)] == [0, 1, 2, 3, 4]


def test_pop_skips_what_is_not_allowed_and_remove_takes_a_call_out():
    line: FairLine[str] = FairLine()
    line.add("grade", session=None, priority="batch")
    line.add("draft", session=None, priority="batch")
    line.add("student", session="s", priority="interactive")
    assert line.pop(lambda item: item != "student") == "grade"
    assert line.remove("draft") and not line.remove("draft")
    assert "student" in line and len(line) == 1
    assert line.pop(lambda item: False) is None and len(line) == 1


def test_batch_work_leaves_a_quarter_of_the_places_to_students():
    assert [batch_places(n) for n in (1, 2, 3, 4, 8, 16)] == [1, 2, 3, 3, 6, 12]
