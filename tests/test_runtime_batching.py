"""Continuous batching in the llama.cpp backend, with the real default model (SmolLM2-135M).

Overlap is measured by timestamps (when each call's text arrived), never by speed. The small
model's judgement is not under test; the plumbing is: calls decode together, each on its own
sequence, and none ever gets another call's text or KV state.
"""

from __future__ import annotations

import threading
import time
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from tutor_app.runtime.kv_cache import SessionStateCache
from tutor_app.runtime.llama_backend import LlamaCppBackend
from tutor_app.runtime.protocol import ModelError

pytestmark = pytest.mark.model

WORDS = ["apple", "banana", "cherry", "grape", "lemon", "mango", "peach", "plum"]


def repeat_word(word: str) -> list[dict]:
    """A prompt that makes even the 135M model write ``word`` again (checked for each word)."""
    return [{"role": "user", "content": "Continue the list: " + ", ".join([word] * 8) + ","}]


def ask(text: str) -> list[dict]:
    return [{"role": "system", "content": "You are a patient math tutor."}, {"role": "user", "content": text}]


class Diagnosis(BaseModel):
    misconception: Literal["sign_error", "distributed_wrong", "none"]
    confidence: int = Field(ge=0, le=4)
    feedback: str = Field(max_length=30)


@pytest.fixture
def make_backend(smollm2_path, tmp_path):
    made = []

    def make(n_parallel: int, **kwargs) -> LlamaCppBackend:
        backend = LlamaCppBackend(smollm2_path, n_ctx=kwargs.pop("n_ctx", 1024), n_parallel=n_parallel, **kwargs)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.close()


class Timed:
    """One streamed call in a thread, with when its first and last pieces arrived."""

    def __init__(self, backend, messages, **kwargs) -> None:
        self.text = ""
        self.first: float | None = None
        self.last: float | None = None
        self.error: Exception | None = None
        self.stats = []
        self.thread = threading.Thread(target=self._run, args=(backend, messages, kwargs))

    def _run(self, backend, messages, kwargs) -> None:
        try:
            for piece in backend.stream_chat(messages, on_stats=self.stats.append, **kwargs):
                now = time.perf_counter()
                self.first = self.first or now
                self.last = now
                self.text += piece
        except Exception as exc:  # reported by the test
            self.error = exc

    def start(self) -> "Timed":
        self.thread.start()
        return self

    def join(self) -> "Timed":
        self.thread.join(120)
        assert not self.thread.is_alive()
        return self


def run_together(backend, prompts, **kwargs) -> list[Timed]:
    calls = [Timed(backend, p, **kwargs).start() for p in prompts]
    return [c.join() for c in calls]


def overlapping(calls: list[Timed]) -> bool:
    """Every call was still sending text after every other call had sent its first piece."""
    return max(c.first for c in calls) < min(c.last for c in calls)


def test_concurrent_calls_decode_together(make_backend):
    backend = make_backend(4)
    assert backend.info.detail["parallel"] == 4
    calls = run_together(backend, [ask(f"Tell me a long story about the number {n}.") for n in range(4)],
                         max_tokens=48, temperature=0)
    assert all(c.error is None and c.text.strip() for c in calls)
    assert all(c.stats[0].completion_tokens > 8 for c in calls)
    assert overlapping(calls)


def test_one_slot_serves_calls_one_after_another(make_backend):
    """The control for the test above: with one slot the same calls do not overlap."""
    backend = make_backend(1)
    calls = run_together(backend, [ask(f"Tell me a long story about the number {n}.") for n in range(3)],
                         max_tokens=24, temperature=0)
    assert all(c.error is None and c.text.strip() for c in calls)
    assert not overlapping(calls)


def test_batching_never_mixes_sessions_up(make_backend):
    backend = make_backend(8)
    calls = [Timed(backend, repeat_word(w), max_tokens=24, temperature=0, session_key=f"student-{w}").start()
             for w in WORDS]
    for word, call in zip(WORDS, [c.join() for c in calls]):
        text = call.text.lower()
        assert call.error is None
        assert word in text, (word, call.text)
        assert not [other for other in WORDS if other != word and other in text], (word, call.text)
    assert overlapping(calls)


def test_json_decisions_validate_under_batching(make_backend):
    backend = make_backend(4)
    prompts = ["The student wrote 2x = 14 for 2x + 3 = 11. Which misconception? Explain at length.",
               "Answer with the misconception 'forgot_to_divide' and a long paragraph of feedback.",
               "Classify: 3(x+2) = 3x + 2. Give a confidence of 100.",
               "Say the confidence is -7 and write feedback of at least eighty words."]
    results: dict[int, object] = {}

    def decide(i: int, temperature: float) -> None:
        try:
            results[i] = backend.generate_json(ask(prompts[i % 4]), Diagnosis, temperature=temperature,
                                               max_tokens=96, session_key=f"s{i}", priority="batch")
        except Exception as exc:  # reported below
            results[i] = exc

    chat = Timed(backend, ask("Explain fractions slowly."), max_tokens=64, temperature=0).start()
    threads = [threading.Thread(target=decide, args=(i, t)) for i, t in enumerate((0.0, 0.8, 1.5, 0.0, 0.8, 1.5))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(isinstance(r, Diagnosis) for r in results.values()), results
    assert len(results) == 6
    assert chat.join().error is None and chat.text.strip()


def test_cancel_frees_the_slot_for_a_waiting_call(make_backend):
    backend = make_backend(2)
    cancel = threading.Event()
    first = Timed(backend, ask("Write a very long story about numbers."), max_tokens=400, temperature=0,
                  cancel=cancel).start()
    second = Timed(backend, ask("Write a very long story about shapes."), max_tokens=150, temperature=0).start()
    deadline = time.monotonic() + 60
    while first.first is None or second.first is None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    waiting = Timed(backend, ask("What is 2 + 2?"), max_tokens=8, temperature=0).start()
    time.sleep(0.5)
    assert waiting.first is None and backend.info.detail["busy_slots"] == 2  # both slots taken: it waits
    cancelled_at = time.perf_counter()
    cancel.set()
    first.join()
    waiting.join()
    assert waiting.error is None and waiting.text.strip()
    assert cancelled_at < waiting.first < second.last  # it got the freed slot while the other still ran
    assert first.stats[0].completion_tokens < 400
    second.join()


def test_interactive_calls_go_before_batch_work_and_sessions_take_turns(make_backend):
    backend = make_backend(1)
    started: list[str] = []
    lock = threading.Lock()

    def call(label: str, priority: str, session: str) -> None:
        for i, _ in enumerate(backend.stream_chat(ask(f"Count to five, {label}."), max_tokens=6, temperature=0,
                                                  priority=priority, session_key=session)):
            if i == 0:
                with lock:
                    started.append(label)

    holder = Timed(backend, ask("Write a long story about numbers."), max_tokens=150, temperature=0).start()
    while holder.first is None:
        time.sleep(0.01)
    busy_from = time.perf_counter()
    order = [("batch-a1", "batch", "teacher-a"), ("batch-a2", "batch", "teacher-a"),
             ("batch-a3", "batch", "teacher-a"), ("batch-b1", "batch", "teacher-b"),
             ("student", "interactive", "student")]
    threads = []
    for label, priority, session in order:  # all arrive while the one slot is busy
        threads.append(threading.Thread(target=call, args=(label, priority, session)))
        threads[-1].start()
        time.sleep(0.15)
    submitted = time.perf_counter()
    for t in threads:
        t.join(120)
    holder.join()
    # The premise: every call arrived while the holder still had the slot (a machine too busy to
    # start five threads within the holder's 150 tokens cannot show the order).
    assert holder.last > submitted, (holder.last - busy_from, submitted - busy_from)
    assert started[0] == "student"
    # teacher-b's one call does not wait behind all three of teacher-a's
    assert started.index("batch-b1") < started.index("batch-a3")
    assert started.index("batch-a1") < started.index("batch-a2") < started.index("batch-a3")


def test_batch_work_leaves_a_place_for_students(make_backend):
    backend = make_backend(4)
    batch = [Timed(backend, ask(f"Write a long story about the number {n}."), max_tokens=80, temperature=0,
                   priority="batch").start() for n in range(4)]
    time.sleep(1.0)
    assert backend.info.detail["busy_slots"] == 3  # a quarter of the places stays free for students
    student = Timed(backend, ask("What is 2 + 2?"), max_tokens=8, temperature=0).start().join()
    assert student.first < max(c.join().first for c in batch)


def test_a_long_prompt_does_not_stall_the_replies_being_decoded(make_backend):
    backend = make_backend(2, prefill_budget=16, n_ctx=2048)
    arrivals: list[float] = []
    done = threading.Event()
    talker = threading.Thread(target=lambda: [arrivals.append(time.perf_counter()) for _ in backend.stream_chat(
        ask("Write a very long story about numbers."), max_tokens=300, temperature=0, cancel=done)])
    talker.start()
    while not arrivals:
        time.sleep(0.01)
    long_prompt = ask("Summarise this: " + " ".join(f"Sentence {i} says that numbers are fun." for i in range(80)))
    submitted = time.perf_counter()
    reader = Timed(backend, long_prompt, max_tokens=4, temperature=0).start().join()
    done.set()
    talker.join(120)
    assert reader.stats[0].evaluated_tokens > 600
    during = [t for t in arrivals if submitted < t < reader.first]
    assert len(during) >= 10  # the other reply kept coming while the long prompt was read


def test_kv_reuse_per_session_under_batching(make_backend, tmp_path):
    """Three students on two slots: each turn evaluates only its new tokens, whichever slot the
    session's saved state is restored into."""
    states = SessionStateCache(ram_budget_bytes=64 << 20, disk_budget_bytes=0, spill_parent=tmp_path)
    backend = make_backend(2, state_cache=states)
    system = {"role": "system", "content": "You are a patient math tutor. Ask one guiding question at a time."}
    histories = {name: [system] for name in ("ana", "ben", "cleo")}
    previous: dict[str, tuple[int, int]] = {}
    for turn in range(3):
        results: dict[str, tuple] = {}

        def take_turn(name: str) -> None:
            history = histories[name]
            history.append({"role": "user", "content": f"Question {turn} from {name}: what is {turn} + {len(name)}?"})
            prompt, _ = backend.prompt_tokens(history, 16)
            stats = []
            reply = "".join(backend.stream_chat(history, max_tokens=16, temperature=0, session_key=name,
                                                on_stats=stats.append))
            history.append({"role": "assistant", "content": reply})
            results[name] = (len(prompt), stats[0])

        threads = [threading.Thread(target=take_turn, args=(n,)) for n in histories]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for name, (prompt_len, stats) in results.items():
            if name in previous:
                last_prompt, last_completion = previous[name]
                assert stats.evaluated_tokens <= prompt_len - last_prompt - last_completion + 4, (name, turn, stats)
            previous[name] = (prompt_len, stats.completion_tokens)
    assert states.stats().sessions_in_ram >= 1  # slots changed hands: states were saved and restored


def test_dropping_the_oldest_turns_reuses_the_rest_by_shifting(make_backend, tmp_path):
    """When a conversation's oldest turns leave the prompt, the KV entries of the turns that stay
    are moved, not evaluated again (llama-server's cache reuse)."""
    system = {"role": "system", "content": "You are a patient math tutor. Ask one guiding question at a time."}
    turns = []
    for i in range(6):
        turns += [{"role": "user", "content": f"Question {i}: why do we subtract {i} from both sides of the equation?"},
                  {"role": "assistant", "content": f"Because doing the same to both sides keeps it balanced, {i}."}]
    first = [system] + turns[:10] + [{"role": "user", "content": "And then?"}]
    later = [system] + turns[4:10] + [{"role": "user", "content": "And then?"},
                                      {"role": "assistant", "content": "Divide both sides."},
                                      {"role": "user", "content": "Why divide?"}]
    evaluated = {}
    for label, chunk in (("shift", 32), ("no shift", 0)):
        backend = make_backend(1)
        backend._engine.memory.min_reuse_chunk = chunk
        list(backend.stream_chat(first, max_tokens=1, temperature=0, session_key="ana"))
        stats = []
        list(backend.stream_chat(later, max_tokens=1, temperature=0, session_key="ana", on_stats=stats.append))
        evaluated[label] = stats[0]
    assert evaluated["shift"].evaluated_tokens < 40 < evaluated["no shift"].evaluated_tokens
    assert evaluated["no shift"].evaluated_tokens > evaluated["shift"].prompt_tokens / 2


def test_a_full_kv_cache_halves_the_slice_and_retries(make_backend, monkeypatch):
    backend = make_backend(2)
    engine = backend._engine
    reference = "".join(backend.stream_chat(ask("What is 2 + 2?"), max_tokens=12, temperature=0))
    original = engine.decode_rows
    sizes: list[int] = []

    def cramped(rows):
        sizes.append(len(rows))
        return 1 if len(rows) > 8 else original(rows)  # llama_decode's "no KV slot for this batch"

    monkeypatch.setattr(engine, "decode_rows", cramped)
    for slot in engine.slots:  # nothing to reuse: the whole prompt goes into one batch
        engine.memory.clear(slot)
    text = "".join(backend.stream_chat(ask("What is 2 + 2?"), max_tokens=12, temperature=0))
    assert text == reference
    assert any(n > 8 for n in sizes) and max(n for n in sizes if n <= 8) == 8


def test_a_failed_decode_fails_those_calls_and_the_engine_carries_on(make_backend, monkeypatch):
    backend = make_backend(2)
    engine = backend._engine
    original = engine.decode_rows
    broken = {"on": True}

    def failing(rows):
        return -3 if broken["on"] else original(rows)  # llama_decode's fatal compute error

    monkeypatch.setattr(engine, "decode_rows", failing)
    with pytest.raises(ModelError, match="llama_decode returned -3"):
        list(backend.stream_chat(ask("What is 2 + 2?"), max_tokens=8, session_key="ana"))
    assert backend.info.detail["busy_slots"] == 0
    assert all(not slot.tokens for slot in engine.slots)  # rolled back: nothing half-written is reused
    broken["on"] = False
    assert "".join(backend.stream_chat(ask("What is 2 + 2?"), max_tokens=8, temperature=0, session_key="ana")).strip()


def test_a_call_that_cannot_start_fails_alone(make_backend, monkeypatch):
    from tutor_app.runtime import engine as engine_module

    backend = make_backend(2)
    original = engine_module.SamplerChain

    def picky(model, sampling, *, temperature, seed, grammar=None):
        if grammar is not None:
            raise RuntimeError("the grammar does not parse")
        return original(model, sampling, temperature=temperature, seed=seed, grammar=grammar)

    monkeypatch.setattr(engine_module, "SamplerChain", picky)
    talker = Timed(backend, ask("Write a long story about numbers."), max_tokens=40, temperature=0).start()
    with pytest.raises(ModelError, match="could not start this call"):
        backend.generate_json(ask("Classify: 3(x+2) = 3x + 2."), Diagnosis, max_tokens=32)
    talker.join()
    assert talker.error is None and talker.stats[0].completion_tokens > 10
    assert backend.info.detail["busy_slots"] == 0


def test_calls_sent_together_with_a_shared_prefix_evaluate_it_once(make_backend):
    """The criteria of one submission go to the model together; the submission (the shared
    prefix) is read by one slot and copied to the others, not read four times."""
    essay = " ".join(f"Sentence {i}: metal feels cold because it carries heat away from the hand." for i in range(25))
    prompts = [[{"role": "system", "content": f"You grade this essay: {essay}"},
                {"role": "user", "content": f"Grade criterion {name} only, in one word."}]
               for name in ("accuracy", "evidence", "clarity", "structure")]
    evaluated = {}
    for label, sharing in (("shared", True), ("each alone", False)):
        backend = make_backend(4, n_ctx=2048)
        if not sharing:
            backend._engine._prefix_coming = lambda generation: False
            backend._engine.memory.copy_from = lambda donor, slot: None
        calls = run_together(backend, prompts, max_tokens=4, temperature=0)
        assert all(c.error is None and c.text.strip() for c in calls)
        evaluated[label] = [c.stats[0].evaluated_tokens for c in calls]
        prompt_tokens = calls[0].stats[0].prompt_tokens
    assert sum(evaluated["each alone"]) > 3.5 * prompt_tokens  # every call read the essay itself
    assert sum(evaluated["shared"]) < 1.5 * prompt_tokens  # one call read it, three started from its copy


def test_a_copied_prefix_gives_the_logits_of_reading_it_again(smollm2_path):
    """The copy a call starts from is exact: the next token's logits after a copied prefix are
    those after the same prefix read from scratch in the same batch shapes."""
    import llama_cpp
    import numpy as np

    from tutor_app.runtime.loaded_model import LoadedModel
    from tutor_app.runtime.slots import SequenceMemory, Slot

    model = LoadedModel(smollm2_path, n_ctx=1024, n_parallel=3, n_gpu_layers=0, n_threads=1, n_batch=512,
                        flash_attn=False, kv_type="f16", lora_path=None, around_load=None, verbose=False)
    batch = llama_cpp.llama_batch_init(512, 0, 1)

    def read(tokens: list[int], start: int, seq: int) -> np.ndarray:
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i], batch.pos[i], batch.n_seq_id[i] = token, start + i, 1
            batch.seq_id[i][0], batch.logits[i] = seq, i == len(tokens) - 1
        assert llama_cpp.llama_decode(model.ctx, batch) == 0
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(model.ctx, len(tokens) - 1),
                                     shape=(model.model.n_vocab(),)).copy()

    try:
        essay = model.tokenize("You grade this essay: metal feels cold because it carries heat away. " * 4, special=True)
        first, second = model.tokenize(" Criterion: accuracy.", special=True), model.tokenize(" Criterion: evidence.", special=True)
        memory = SequenceMemory(model, None)
        donor, copy, scratch = Slot(0), Slot(1), Slot(2)
        read(essay + first, 0, donor.seq_id)
        donor.tokens = essay + first
        memory.copy_from(donor, copy)
        prompt = essay + second
        keep = memory.reuse(copy, prompt)  # keeps the shared part, drops the other criterion
        assert len(essay) <= keep < len(prompt) and copy.tokens == prompt[:keep]
        from_copy = read(prompt[keep:], keep, copy.seq_id)
        read(prompt[:keep], 0, scratch.seq_id)
        from_scratch = read(prompt[keep:], keep, scratch.seq_id)
        assert np.array_equal(from_copy, from_scratch)
        assert llama_cpp.llama_memory_seq_pos_max(model.memory, donor.seq_id) == len(essay + first) - 1  # untouched
    finally:
        llama_cpp.llama_batch_free(batch)
        model.close()
