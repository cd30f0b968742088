"""KV reuse across turns and students, counted in evaluated tokens, with the real default model.

A turn must evaluate only what is new since the session's last turn, also after other students
used the model in between (their states are saved and restored), also when the saved states
had to spill to disk. Restored states must give the same reply as evaluating from scratch.
"""

from __future__ import annotations

import pytest

from tutor_app.runtime.kv_cache import SessionStateCache, common_prefix_length
from tutor_app.runtime.llama_backend import LlamaCppBackend

pytestmark = pytest.mark.model

SYSTEM = {"role": "system", "content": "You are a patient math tutor. Ask one guiding question at a time."}
QUESTIONS = {
    "ana": ["How do I solve 2x + 3 = 11?", "I took away 3 from both sides. Now what?", "So x is 4?"],
    "ben": ["What is a prime number?", "Is 9 prime?", "Why not?"],
}


@pytest.fixture
def make_backend(smollm2_path, tmp_path):
    made = []

    def make(ram_bytes: int = 64 << 20, disk_bytes: int = 1 << 30, cache: bool = True) -> LlamaCppBackend:
        states = SessionStateCache(ram_budget_bytes=ram_bytes, disk_budget_bytes=disk_bytes,
                                   spill_parent=tmp_path / "kv") if cache else None
        backend = LlamaCppBackend(smollm2_path, n_ctx=2048, state_cache=states)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


class Student:
    def __init__(self, name: str):
        self.name = name
        self.history = [SYSTEM]
        self.turn = 0

    def take_turn(self, backend: LlamaCppBackend):
        self.history.append({"role": "user", "content": QUESTIONS[self.name][self.turn]})
        prompt, _ = backend.prompt_tokens(self.history, 24)
        reply = "".join(backend.stream_chat(self.history, max_tokens=24, temperature=0, session_key=self.name))
        self.history.append({"role": "assistant", "content": reply})
        self.turn += 1
        return prompt, reply, backend.last_stats


def new_tokens(previous_prompt: list[int], previous_stats, prompt: list[int]) -> int:
    """Tokens of ``prompt`` beyond the previous turn's prompt and reply (the reply is re-rendered
    by the template, so allow its closing marks)."""
    return len(prompt) - len(previous_prompt) - previous_stats.completion_tokens


def test_second_turn_evaluates_only_the_new_tokens(make_backend):
    backend = make_backend()
    ana = Student("ana")
    p1, _, s1 = ana.take_turn(backend)
    assert s1.evaluated_tokens == s1.prompt_tokens == len(p1)  # nothing to reuse yet
    p2, _, s2 = ana.take_turn(backend)
    assert s2.prompt_tokens == len(p2)
    assert s2.evaluated_tokens <= new_tokens(p1, s1, p2) + 4
    assert s2.evaluated_tokens < s2.prompt_tokens / 2
    assert common_prefix_length(p1, p2) == len(p1)  # the template keeps earlier turns verbatim


def test_interleaved_students_get_their_own_state_restored(make_backend):
    backend = make_backend()
    ana, ben = Student("ana"), Student("ben")
    for _ in range(3):
        pa, ra, sa = ana.take_turn(backend)
        pb, rb, sb = ben.take_turn(backend)
        if ana.turn > 1:
            assert sa.evaluated_tokens <= new_tokens(last_a[0], last_a[1], pa) + 4, (sa, len(pa))
            assert sb.evaluated_tokens <= new_tokens(last_b[0], last_b[1], pb) + 4, (sb, len(pb))
        last_a, last_b = (pa, sa), (pb, sb)
    stats = backend._states.stats()
    assert stats.sessions_in_ram == 2 and stats.spills == 0

    # The restored states are exact: each student alone on a model of their own, where the
    # context simply grows (same evaluation steps, no save/restore), gets the same replies.
    # (A from-scratch evaluation of the whole history is not the reference: llama.cpp's sums in
    # other batch shapes differ in the last bits, which can flip a greedy choice.)
    for student in (ana, ben):
        alone = Student(student.name)
        solo = make_backend(cache=False)
        for _ in range(3):
            alone.take_turn(solo)
        assert alone.history == student.history


def test_states_spilled_to_disk_are_reused(make_backend):
    backend = make_backend(ram_bytes=1)  # every saved state goes straight to disk
    ana, ben = Student("ana"), Student("ben")
    pa, _, sa = ana.take_turn(backend)
    ben.take_turn(backend)
    assert backend._states.where("ana") == "disk"
    pa2, _, sa2 = ana.take_turn(backend)
    assert sa2.evaluated_tokens <= new_tokens(pa, sa, pa2) + 4
    assert backend._states.stats().disk_loads == 1


def test_without_room_for_states_the_turn_is_evaluated_again(make_backend):
    """The control for the tests above: with no saved state, ana's second turn after ben's
    reuses only the shared system prompt, not her conversation."""
    backend = make_backend(ram_bytes=0, disk_bytes=0)
    ana, ben = Student("ana"), Student("ben")
    pa, _, sa = ana.take_turn(backend)
    ben.take_turn(backend)
    pa2, _, sa2 = ana.take_turn(backend)
    assert sa2.evaluated_tokens > new_tokens(pa, sa, pa2) + 20
    assert sa2.evaluated_tokens >= len(pa2) - len(backend.prompt_tokens([SYSTEM], 1)[0])
