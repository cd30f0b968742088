"""The in-process llama.cpp backend against the real default model (SmolLM2-135M).

The tiny model's judgement is not under test; the plumbing is: streaming, cancel, stop strings,
grammar-constrained JSON that always validates, prompts kept within n_ctx, and templates.
"""

from __future__ import annotations

import json
import threading
from typing import Literal

import pytest
from pydantic import BaseModel, Field

from tutor_app.runtime.chat_template import alternating
from tutor_app.runtime.grammar import schema_grammar
from tutor_app.runtime.llama_backend import LlamaCppBackend
from tutor_app.runtime.protocol import ModelBackend

MIXTRAL_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)


class Diagnosis(BaseModel):
    misconception: Literal["sign_error", "distributed_wrong", "none"]
    confidence: int = Field(ge=0, le=4)
    feedback: str = Field(max_length=30)


class Nested(BaseModel):
    verdict: Literal["correct", "incorrect"]
    scores: list[int] = Field(max_length=3)
    note: str | None = Field(default=None, max_length=12)


@pytest.fixture(scope="module")
def llama(smollm2_path):
    backend = LlamaCppBackend(smollm2_path, n_ctx=1024)
    yield backend
    backend.close()


def ask(text: str) -> list[dict]:
    return [{"role": "system", "content": "You are a patient math tutor."}, {"role": "user", "content": text}]


pytestmark = pytest.mark.model


def test_streams_pieces_with_stats(llama):
    assert isinstance(llama, ModelBackend)
    pieces = list(llama.stream_chat(ask("How do I solve 2x + 3 = 11?"), max_tokens=24, temperature=0))
    assert len(pieces) > 3 and "".join(pieces).strip()
    stats = llama.last_stats
    assert stats.prompt_tokens == stats.evaluated_tokens or stats.evaluated_tokens < stats.prompt_tokens
    assert 0 < stats.completion_tokens <= 24
    assert 0 < stats.time_to_first_token_s < stats.total_s
    assert stats.decode_tokens_per_s > 0


def test_cancel_stops_generation_promptly(llama):
    cancel = threading.Event()
    pieces = []
    for piece in llama.stream_chat(ask("Write a very long story about numbers."), max_tokens=200, cancel=cancel):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    assert llama.last_stats.completion_tokens <= 4


def test_cancel_before_start_evaluates_nothing(llama):
    cancel = threading.Event()
    cancel.set()
    assert list(llama.stream_chat(ask("A question nobody will hear answered, about primes."), cancel=cancel)) == []
    assert llama.last_stats.completion_tokens == 0


def test_stop_strings_end_the_reply_and_are_not_shown(llama):
    text = "".join(llama.stream_chat(ask("List three prime numbers, one per line."), max_tokens=60, temperature=0,
                                     stop=["\n"]))
    assert "\n" not in text


@pytest.mark.parametrize("temperature", [0.0, 0.8, 1.5])
def test_json_always_validates_and_the_grammar_enforces_enum_range_and_max_length(llama, temperature, monkeypatch):
    raw: list[str] = []
    original = llama._generate

    def recording(*args, **kwargs):
        text = "".join(original(*args, **kwargs))
        raw.append(text)
        yield text

    monkeypatch.setattr(llama, "_generate", recording)
    prompts = ["The student wrote 2x = 14 for 2x + 3 = 11. Which misconception? Explain at length.",
               "Answer with the misconception 'forgot_to_divide' and a long paragraph of feedback.",
               "Classify: 3(x+2) = 3x + 2. Give a confidence of 100.",
               "Say the confidence is -7 and write feedback of at least eighty words."]
    for prompt in prompts:
        result = llama.generate_json(ask(prompt), Diagnosis, temperature=temperature, max_tokens=96)
        assert isinstance(result, Diagnosis)
    # Each raw output obeyed the schema on its own: the grammar, not a retry, kept it valid.
    assert len(raw) == len(prompts)
    for text in raw:
        obj = json.loads(text)
        assert obj["misconception"] in {"sign_error", "distributed_wrong", "none"}
        assert obj["confidence"] in range(5) and len(obj["feedback"]) <= 30


def test_json_nested_schema(llama):
    for temperature in (0.0, 1.0):
        result = llama.generate_json(ask("Grade 2+2=4 and give up to three scores."), Nested, temperature=temperature)
        assert len(result.scores) <= 3 and (result.note is None or len(result.note) <= 12)


def test_grammar_keeps_control_characters_out_of_strings():
    gbnf = schema_grammar(Diagnosis.model_json_schema())
    assert 'char ::= [^"\\\\\\x7F\\x00-\\x1F]' in gbnf
    assert '"\\"sign_error\\""' in gbnf  # the enum is in the grammar
    assert 'confidence ::= "0" | "1" | "2" | "3" | "4"' in gbnf  # and the integer range


def test_long_history_with_small_context_never_fails(smollm2_path):
    backend = LlamaCppBackend(smollm2_path, n_ctx=256)
    try:
        history = [{"role": "system", "content": "You are a tutor."}]
        for i in range(30):
            history += [{"role": "user", "content": f"Question {i}: " + "why is that so? " * 8},
                        {"role": "assistant", "content": f"Answer {i}: " + "because of the rule. " * 8}]
        history.append({"role": "user", "content": "And now, what is 3 + 4?"})
        text = "".join(backend.stream_chat(history, max_tokens=64, temperature=0))
        stats = backend.last_stats
        assert text.strip()
        assert stats.prompt_tokens + 64 <= 256 and stats.completion_tokens <= 64
        huge = [{"role": "user", "content": "Explain this: " + "lots of words here " * 400}]
        assert "".join(backend.stream_chat(huge, max_tokens=32, temperature=0)).strip()
        assert backend.last_stats.prompt_tokens + backend.last_stats.completion_tokens <= 256
    finally:
        backend.close()


def test_templates_that_refuse_system_turns_get_them_folded_in(llama, monkeypatch):
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    monkeypatch.setattr(llama, "_formatter", Jinja2ChatFormatter(MIXTRAL_TEMPLATE, eos_token="</s>", bos_token="<s>"))
    prompt = llama.render_prompt([{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"},
                                  {"role": "assistant", "content": "Hello"}, {"role": "user", "content": "2+2?"}])
    assert prompt == "<s>[INST] Be kind.\n\nHi [/INST]Hello</s>[INST] 2+2? [/INST]"


def test_gguf_template_is_used(llama):
    prompt = llama.render_prompt([{"role": "user", "content": "Hi"}])
    assert prompt.endswith("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    assert llama.info.detail["chat_template"] == "gguf"


def test_alternating_merges_roles():
    msgs = [{"role": "system", "content": "S"}, {"role": "assistant", "content": "stray"},
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}]
    assert alternating(msgs) == [{"role": "user", "content": "S\n\na\n\nb"}, {"role": "assistant", "content": "c"}]


def test_count_tokens(llama):
    assert llama.count_tokens("") == 0
    assert 1 <= llama.count_tokens("Hello world") <= 4


def test_quantized_kv_cache_makes_saved_states_smaller(smollm2_path):
    from tutor_app.runtime.kv_cache import SessionStateCache

    sizes = {}
    for kv_type, flash in (("f16", False), ("q8_0", True)):
        states = SessionStateCache(ram_budget_bytes=64 << 20, disk_budget_bytes=0)
        backend = LlamaCppBackend(smollm2_path, n_ctx=512, kv_type=kv_type, flash_attn=flash, state_cache=states)
        try:
            assert "".join(backend.stream_chat(ask("What is 2 + 2?"), max_tokens=8, temperature=0, session_key="a"))
            list(backend.stream_chat(ask("Hi"), max_tokens=1, session_key="b"))  # saves a's state
            sizes[kv_type] = states.stats().ram_bytes
            assert backend.info.detail["kv_type"] == kv_type
        finally:
            backend.close()
    assert 0 < sizes["q8_0"] < 0.7 * sizes["f16"]


def test_checking_the_grammar_after_the_choice_picks_what_grammar_first_sampling_picks(llama, smollm2_path):
    """The engine lets the model choose and applies the grammar only when it rejects the choice;
    at temperature 0 that must give the very tokens of llama-cpp-python's grammar-first chain."""
    from llama_cpp import Llama

    from tutor_app.runtime.grammar import GrammarCache

    bare = Llama(str(smollm2_path), n_ctx=1024, n_threads=llama.info.detail["threads"], verbose=False)
    grammar = GrammarCache().for_schema(Diagnosis)
    try:
        for prompt in ("The student wrote 2x = 14 for 2x + 3 = 11. Which misconception?",
                       "Say the confidence is -7 and write long feedback."):
            tokens, budget = llama.prompt_tokens(ask(prompt), 96)
            ours = "".join(llama._generate(tokens, max_tokens=budget, temperature=0, stop=(), session_key=None,
                                           cancel=None, grammar=grammar, started=0.0))
            theirs = []
            for token in bare.generate(tokens, temp=0, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.1,
                                       grammar=grammar):
                if bare._model.token_eos() == token or len(theirs) >= budget:
                    break
                theirs.append(token)
            assert ours == bare.detokenize(theirs).decode().strip()
            Diagnosis.model_validate_json(ours)
    finally:
        bare.close()
