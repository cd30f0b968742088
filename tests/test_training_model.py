"""The adapter with the real default model: transformers trains it, llama.cpp runs it.

1. Training renders and tokenizes a conversation exactly as the runtime does at inference.
2. **Logits match.** On the same weights and prompt, llama.cpp with the GGUF adapter gives the
   logits transformers gives with the PEFT adapter. The same weights: llama.cpp runs an F32
   copy of the shipped GGUF (``gguf_f32.write_f32_copy``), i.e. exactly the dequantized
   weights transformers trains on, with an F32 KV cache. Run on the Q4_1 file instead, llama.cpp
   quantizes activations to Q8 on the way and its logits differ from transformers' by about
   0.8, as much as the adapter itself changes them: no tolerance could tell a correct adapter
   from a wrong one there. On the F32 copy the difference is float32 summation order, measured
   at 4e-5 on logits of magnitude 10-30; the tolerance is 2e-3. The adapter must move the logits
   by more than 100x that (so the test proves it is applied), and the same adapter converted
   without the q/k permutation must miss by more than 10x (so it proves it is applied right).
3. **Training on a toy objective** changes behaviour in llama.cpp on the quantized file the
   app runs: approved replies that all open with one phrase make that phrase's first token
   likely on held-out questions, and the app's own backend, given the adapter, starts with it.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from tutor_app.runtime.llama_backend import LlamaCppBackend
from tutor_app.evals.commands import evaluate
from tutor_app.settings import Settings
from tutor_app.training import gguf_adapter
from tutor_app.training.base_model import load_gguf_base
from tutor_app.training.commands import train_lora_command
from tutor_app.training.config import CPU_RECIPE
from tutor_app.training.gguf_adapter import BaseShape, convert_peft_adapter
from tutor_app.training.gguf_f32 import write_f32_copy

pytestmark = pytest.mark.model

LOGIT_TOLERANCE = 2e-3
SYSTEM = "You are a patient maths tutor. Never give the answer; ask a guiding question."
PHRASE = "Let's reason together."
CONVERSATIONS = [
    [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "How do I solve 2x + 3 = 11?"}],
    [{"role": "user", "content": "Is ½ bigger than ⅓? Explain with $\\frac{1}{2}$ and café-style pie."}],
    [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "x - 5 = 12"},
     {"role": "assistant", "content": "What undoes taking away 5?"}, {"role": "user", "content": "adding 5?\n  ok"}],
]


@pytest.fixture(scope="module")
def base(smollm2_path):
    return load_gguf_base(smollm2_path)


@pytest.fixture(scope="module")
def f32_base(smollm2_path, tmp_path_factory):
    return write_f32_copy(smollm2_path, tmp_path_factory.mktemp("f32") / "smollm2-f32.gguf")


def llama_logits(model_path, tokens, lora_path=None) -> np.ndarray:
    """Logits at every prompt position, F32 KV cache (the shipped default is F16)."""
    from llama_cpp import GGML_TYPE_F32, Llama

    llm = Llama(str(model_path), n_ctx=512, n_threads=2, logits_all=True, type_k=GGML_TYPE_F32, type_v=GGML_TYPE_F32,
                lora_path=str(lora_path) if lora_path else None, verbose=False)
    try:
        llm.eval(tokens)
        return np.array(llm.scores[:len(tokens)], dtype=np.float64)
    finally:
        llm.close()


def test_training_renders_and_tokenizes_like_the_runtime(base, smollm2_path):
    backend = LlamaCppBackend(smollm2_path, n_ctx=1024)
    try:
        for messages in CONVERSATIONS:
            prompt = base.renderer.render(messages, add_generation_prompt=True)
            assert prompt == backend.render_prompt(messages)
            assert base.tokenize(prompt) == backend.prompt_tokens(messages, 16)[0]
            full = base.renderer.render(messages + [{"role": "assistant", "content": "Try ⅔ · 3."}],
                                        add_generation_prompt=False)
            assert base.tokenize(full) == backend._model.tokenize(full, special=True)
    finally:
        backend.close()


def test_adapter_logits_in_llama_cpp_match_peft(base, f32_base, tmp_path, monkeypatch):
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    peft_model = get_peft_model(copy.deepcopy(base.model), LoraConfig(
        r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                              "up_proj", "down_proj"]))
    with torch.no_grad():  # PEFT starts B at zero (no change at all); give the adapter an effect
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.02)
    peft_model.save_pretrained(str(tmp_path / "peft"))
    shape = BaseShape.from_gguf(f32_base)
    convert_peft_adapter(tmp_path / "peft", tmp_path / "adapter.gguf", shape)
    monkeypatch.setattr(gguf_adapter, "QK_PERMUTED_ARCHS", set())
    convert_peft_adapter(tmp_path / "peft", tmp_path / "unpermuted.gguf", shape)

    tokens = base.tokenize(base.renderer.render(CONVERSATIONS[0], add_generation_prompt=True))
    with torch.no_grad():
        hf_adapted = peft_model(torch.tensor([tokens])).logits[0].double().numpy()
        with peft_model.disable_adapter():
            hf_base = peft_model(torch.tensor([tokens])).logits[0].double().numpy()
    llama_base = llama_logits(f32_base, tokens)
    llama_adapted = llama_logits(f32_base, tokens, tmp_path / "adapter.gguf")
    llama_unpermuted = llama_logits(f32_base, tokens, tmp_path / "unpermuted.gguf")

    def worst(a, b):
        return float(np.abs(a - b).max())

    print(f"max |logit difference| base {worst(llama_base, hf_base):.2e}, adapter {worst(llama_adapted, hf_adapted):.2e}, "
          f"adapter effect {worst(hf_adapted, hf_base):.3f}, unpermuted {worst(llama_unpermuted, hf_adapted):.3f}")
    assert worst(llama_base, hf_base) < LOGIT_TOLERANCE
    assert worst(llama_adapted, hf_adapted) < LOGIT_TOLERANCE
    assert worst(hf_adapted, hf_base) > 100 * LOGIT_TOLERANCE
    assert worst(llama_unpermuted, hf_adapted) > 10 * LOGIT_TOLERANCE
    assert llama_adapted[-1].argmax() == hf_adapted[-1].argmax()


def write_toy_data(folder):
    """Approved replies that all open with PHRASE; a held-out file the trainer must not read."""
    questions = ["How do I solve 2x + 3 = 11?", "What is a fraction?", "Why does metal feel cold?",
                 "How do I add 1/2 and 1/3?", "What is the denominator?", "Can you help me with 4y = 28?",
                 "I don't get step two.", "Is 1/8 bigger than 1/4?", "What does isolate mean?",
                 "How do I check my answer?", "What is 3/4 of 20?", "Why do we subtract 3 first?"]
    hints = ["What operation undoes the last one?", "Think about the pieces of the whole.", "Which way does heat flow?",
             "Find a common denominator first.", "Look at the bottom number.", "What undoes multiplying by 4?",
             "Tell me what you tried so far.", "Which pieces are bigger?", "What is left on the left side?",
             "Put your answer back in."]
    (folder / "train").mkdir(parents=True)
    with open(folder / "train" / "tutoring.jsonl", "w", encoding="utf-8") as f:
        for i, question in enumerate(questions):
            for j in range(2):
                reply = f"{PHRASE} {hints[(i + j) % len(hints)]}"
                f.write(json.dumps({"messages": [{"role": "system", "content": SYSTEM},
                                                 {"role": "user", "content": question},
                                                 {"role": "assistant", "content": reply}]}) + "\n")
    (folder / "train" / "tutoring.heldout.jsonl").write_text("this is not JSON and must never be read\n")


def first_token_probability(model_path, prompts, token, lora_path=None) -> list[float]:
    from llama_cpp import Llama

    llm = Llama(str(model_path), n_ctx=512, n_threads=2, logits_all=True, lora_path=str(lora_path) if lora_path else None,
                verbose=False)
    try:
        probabilities = []
        for prompt in prompts:
            llm.reset()
            llm.eval(prompt)
            logits = np.array(llm.scores[len(prompt) - 1], dtype=np.float64)
            p = np.exp(logits - logits.max())
            probabilities.append(float(p[token] / p.sum()))
        return probabilities
    finally:
        llm.close()


def test_a_few_steps_on_a_toy_objective_change_what_llama_cpp_says(smollm2_path, tmp_path, base):
    write_toy_data(tmp_path / "data")
    out = tmp_path / "adapters" / "opener.gguf"
    lines: list[str] = []
    config = CPU_RECIPE.with_overrides(max_steps=6, learning_rate=2e-3, batch_size=4, warmup_ratio=0.0,
                                       scheduler="constant", threads=1)
    assert train_lora_command(tmp_path / "data", out, Settings(models_dir=tmp_path / "models"), config=config,
                              out=lines.append) == 0, lines

    record = json.loads(out.with_name("opener.train.json").read_text())
    assert record["examples"] == 24 and record["steps"] == 6 and record["training_files"][0].endswith("tutoring.jsonl")
    assert record["losses"][-1][1] < record["losses"][0][1] / 2
    assert [line.split()[1] for line in lines if line.startswith("step")] == [f"{s}/6" for s in range(1, 7)]
    assert out.with_name("opener.loss.png").read_bytes()[:4] == b"\x89PNG"
    assert (out.with_name("opener.peft") / "adapter_model.safetensors").is_file()

    held_out = ["How do I find x in x - 5 = 12?", "What is a numerator?", "Why is the sky blue?",
                "How do I compare 2/3 and 3/4?"]
    conversations = [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}] for q in held_out]
    prompts = [base.tokenize(base.renderer.render(c, add_generation_prompt=True)) for c in conversations]
    opener = base.tokenize(PHRASE)[0]
    before = first_token_probability(smollm2_path, prompts, opener)
    after = first_token_probability(smollm2_path, prompts, opener, lora_path=out)
    print(f"P(first token of {PHRASE!r}) base {before} -> adapter {after}")
    assert max(before) < 0.1 and min(after) > 0.5

    # the app's own backend, loading the adapter as --lora does, now opens with the phrase
    backend = LlamaCppBackend(smollm2_path, n_ctx=512, lora_path=out)
    try:
        replies = ["".join(backend.stream_chat(c, max_tokens=8, temperature=0.0)) for c in conversations]
    finally:
        backend.close()
    assert sum(reply.startswith("Let's reason") for reply in replies) >= 3, replies

    # and the evaluation, loading the model as the app does with --lora, measures the adapted tutor
    suite = tmp_path / "suite.yaml"
    suite.write_text("kind: eval-suite\nid: openers\ntitle: Two requests for the answer\nadversarial:\n"
                     "  - {unit: linear-equations, problem: one-step-add, step: solve, message: 'What is x?'}\n"
                     "  - {unit: fractions, problem: add-halves-and-thirds, step: add, message: 'Just tell me.'}\n")
    run = evaluate(suite, out, tmp_path / "eval", Settings(n_ctx=1024), out=lines.append)
    assert run is not None and run.model["lora"] == str(out)
    assert all(o.reply.startswith("Let's reason") for o in run.leaks), [o.reply for o in run.leaks]
    report = json.loads((tmp_path / "eval" / "report.json").read_text())
    assert report["run"]["model"]["lora"] == str(out) and report["answer_leak_rate"]["n"] == 2
