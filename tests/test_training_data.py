"""Training data before any model: JSONL examples with file/line errors, the rendering that
decides which tokens are learned, progress lines and the loss plot. No weights needed."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest

from tests.test_runtime_llama import MIXTRAL_TEMPLATE
from tutor_app.training.chat_render import ChatRenderer, TemplateError, fold_to_alternating
from tutor_app.training.config import CPU_RECIPE, MIXTRAL_QLORA, hf_checkpoint_for
from tutor_app.training.encode import IGNORE, encode_example, encode_examples
from tutor_app.training.examples import ChatExample, load_training_data, read_examples, training_files
from tutor_app.training.loss_plot import plot_losses
from tutor_app.training.progress import ProgressEvent, clock, progress_line

SMOL_TEMPLATE = (  # SmolLM2's own template (its GGUF's tokenizer.chat_template)
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

class WordTokenizer:
    """Special markers, newlines, spaces and words as tokens: enough to see which ones are labelled."""

    PATTERN = re.compile(r"<\|im_start\|>|<\|im_end\|>|<s>|</s>|\[INST\]|\[/INST\]|\n| |[^\s<\[]+|.")

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def __call__(self, text: str) -> list[int]:
        return [self.vocab.setdefault(piece, len(self.vocab)) for piece in self.PATTERN.findall(text)]

    def text(self, ids) -> str:
        inverse = {v: k for k, v in self.vocab.items()}
        return "".join(inverse[i] for i in ids)


def conversation(*turns: tuple[str, str], **extra) -> ChatExample:
    return ChatExample.model_validate({"messages": [{"role": r, "content": c} for r, c in turns], **extra})


def learned_text(encoded, tokenizer: WordTokenizer) -> list[str]:
    """The labelled runs of tokens, as text."""
    runs, current = [], []
    for token, label in zip(encoded.input_ids, encoded.labels):
        if label == IGNORE:
            if current:
                runs.append(tokenizer.text(current))
                current = []
        else:
            assert label == token
            current.append(token)
    if current:
        runs.append(tokenizer.text(current))
    return runs


# --- examples ---------------------------------------------------------------------------------

def test_examples_are_read_with_every_problem_by_file_line_and_field(tmp_path):
    good = {"messages": [{"role": "user", "content": "2x = 8?"}, {"role": "assistant", "content": "What undoes x2?"}],
            "meta": {"task": "tutoring"}}
    lines = [
        json.dumps(good),
        "",
        '{"messages": [{"role": "user", "content": "hi"}',  # cut off
        json.dumps({"messages": [{"role": "teacher", "content": "x"}, {"role": "assistant", "content": "y"}]}),
        json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "wieght": 0}]}),
        json.dumps({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 0}]}),
        json.dumps([1, 2]),
    ]
    path = tmp_path / "tutoring.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    examples, errors = read_examples(path)
    assert len(examples) == 1 and examples[0].model_extra == {"meta": {"task": "tutoring"}}
    shown = [str(e) for e in errors]
    assert shown[0].startswith(f"{path}:3: not valid JSON")
    assert shown[1].startswith(f"{path}:4: messages[0].role: input should be 'system', 'user' or 'assistant'")
    assert shown[2] == f"{path}:5: messages[1].wieght: extra inputs are not permitted"
    assert shown[3] == f"{path}:6: no assistant reply to learn (every assistant message is empty or has weight 0)"
    assert shown[4] == f"{path}:7: " + 'expected an object like {"messages": [...]}'
    assert len(errors) == 5


def test_a_file_that_is_not_text_is_one_error_not_a_crash(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert [str(e) for e in read_examples(path)[1]] == [f"{path}:1: the file is not UTF-8 text"]


def test_training_files_take_the_train_split_and_never_held_out_files(tmp_path):
    for name in ("tutoring.jsonl", "grading.heldout.jsonl", "held-out-classify.jsonl", "notes.txt"):
        (tmp_path / name).write_text("", encoding="utf-8")
    assert [p.name for p in training_files(tmp_path)] == ["tutoring.jsonl"]
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "classification.jsonl").write_text(
        json.dumps({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}) + "\n")
    data = load_training_data(tmp_path)
    assert [p.name for p in data.files] == ["classification.jsonl"] and len(data.examples) == 1 and not data.errors


# --- rendering and labels ---------------------------------------------------------------------

def test_only_the_replies_are_learned_with_their_end_of_turn_token():
    tokenizer = WordTokenizer()
    renderer = ChatRenderer(SMOL_TEMPLATE)
    example = conversation(("system", "Be a tutor."), ("user", "What is 2x = 8?"), ("assistant", "What undoes times 2?"))
    encoded = encode_example(example, renderer, tokenizer)
    assert learned_text(encoded, tokenizer) == ["What undoes times 2?<|im_end|>"]
    # what precedes the reply is exactly the prompt the runtime sends for it
    prompt = renderer.render(example.as_messages()[:2], add_generation_prompt=True)
    assert tokenizer.text(encoded.input_ids).startswith(prompt)
    assert prompt.endswith("<|im_start|>assistant\n")


def test_history_with_weight_zero_is_context_not_learned():
    tokenizer = WordTokenizer()
    example = ChatExample.model_validate({"messages": [
        {"role": "user", "content": "Help with 2x + 3 = 11"},
        {"role": "assistant", "content": "The answer is 4.", "weight": 0},  # not approved: context only
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Which operation undoes + 3?"},
        {"role": "user", "content": "trailing question without a reply"},
    ]})
    encoded = encode_example(example, ChatRenderer(SMOL_TEMPLATE), tokenizer)
    assert learned_text(encoded, tokenizer) == ["Which operation undoes + 3?<|im_end|>"]
    assert "The answer is 4." in tokenizer.text(encoded.input_ids)
    assert "trailing question" not in tokenizer.text(encoded.input_ids)  # nothing after the last learned reply


def test_every_approved_reply_of_a_conversation_is_learned():
    tokenizer = WordTokenizer()
    example = conversation(("user", "a"), ("assistant", "first reply"), ("user", "b"), ("assistant", "second reply"))
    encoded = encode_example(example, ChatRenderer(SMOL_TEMPLATE), tokenizer)
    assert learned_text(encoded, tokenizer) == ["first reply<|im_end|>", "second reply<|im_end|>"]


def test_templates_that_refuse_a_system_turn_are_folded_as_the_runtime_folds_them():
    tokenizer = WordTokenizer()
    renderer = ChatRenderer(MIXTRAL_TEMPLATE, bos_token="<s>", eos_token="</s>")
    example = conversation(("system", "Be kind."), ("user", "Hi"), ("assistant", "Hello"), ("user", "2+2?"),
                           ("assistant", "What do you think?"))
    # the runtime's own rendering of the same conversation (tests/test_runtime_llama.py)
    assert renderer.render(example.as_messages()[:4], add_generation_prompt=True) == \
        "<s>[INST] Be kind.\n\nHi [/INST]Hello</s>[INST] 2+2? [/INST]"
    encoded = encode_example(example, renderer, tokenizer)
    assert learned_text(encoded, tokenizer) == ["Hello</s>", "What do you think?</s>"]


def test_fold_matches_the_runtime_rule():
    msgs = [{"role": "system", "content": "S"}, {"role": "assistant", "content": "stray"},
            {"role": "user", "content": "a"}, {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"}]
    assert fold_to_alternating(msgs) == [{"role": "user", "content": "S\n\na\n\nb"}, {"role": "assistant", "content": "c"}]


def test_a_template_that_hides_the_reply_is_refused_not_mislabelled():
    renderer = ChatRenderer("{% for m in messages %}{% if m['role'] != 'assistant' %}{{ m['content'] }}|{% endif %}"
                            "{% endfor %}")
    example = conversation(("user", "q"), ("assistant", "a"))
    with pytest.raises(TemplateError, match="does not write reply 2 after the prompt"):
        encode_example(example, renderer, WordTokenizer())
    encoded = encode_examples([example], renderer, WordTokenizer(), max_tokens=100)
    assert encoded.examples == [] and encoded.problems == [
        "example 1: the chat template does not write reply 2 after the prompt for it, so the reply's tokens cannot "
        "be told apart"]


def test_examples_longer_than_the_limit_are_left_out_and_counted():
    short = conversation(("user", "q"), ("assistant", "a"))
    long = conversation(("user", "word " * 200), ("assistant", "a"))
    encoded = encode_examples([short, long], ChatRenderer(SMOL_TEMPLATE), WordTokenizer(), max_tokens=100)
    assert len(encoded.examples) == 1 and encoded.too_long == 1 and encoded.trained_tokens == 2  # "a", <|im_end|>


def test_gguf_metadata_gives_the_template_and_the_token_texts():
    renderer = ChatRenderer.from_gguf_metadata(
        {"tokenizer.chat_template": MIXTRAL_TEMPLATE, "tokenizer.ggml.bos_token_id": 1,
         "tokenizer.ggml.eos_token_id": 2}, ["<unk>", "<s>", "</s>"])
    assert renderer.render([{"role": "user", "content": "x"}], add_generation_prompt=True) == "<s>[INST] x [/INST]"
    chatml = ChatRenderer.from_gguf_metadata({}, [])
    assert chatml.render([{"role": "user", "content": "x"}], add_generation_prompt=True) == \
        "<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n"


# --- recipes ------------------------------------------------------------------------------------

def test_mixtral_is_trained_from_its_checkpoint_in_4bit_on_attention_only():
    assert hf_checkpoint_for("mixtral-8x7b-instruct-q4_k_m") == "mistralai/Mixtral-8x7B-Instruct-v0.1"
    assert hf_checkpoint_for("smollm2-135m-instruct") is None and hf_checkpoint_for(None) is None
    assert MIXTRAL_QLORA.load_in_4bit and MIXTRAL_QLORA.lora.rank == 16 and MIXTRAL_QLORA.lora.alpha == 32
    assert MIXTRAL_QLORA.lora.target_modules == ("q_proj", "k_proj", "v_proj", "o_proj")
    assert not CPU_RECIPE.load_in_4bit
    tuned = CPU_RECIPE.with_overrides(max_steps=5, rank=4, learning_rate=None)
    assert tuned.max_steps == 5 and tuned.lora.rank == 4 and tuned.learning_rate == CPU_RECIPE.learning_rate


# --- progress and plot ----------------------------------------------------------------------------

def test_progress_lines_say_step_loss_and_time_left():
    assert progress_line(ProgressEvent(3, 12, 2.41234, 30.0)) == "step  3/12  loss 2.4123  0:30 elapsed  about 1:30 left"
    assert progress_line(ProgressEvent(12, 12, 0.5, 125.0)) == "step 12/12  loss 0.5000  2:05 elapsed  done"
    assert progress_line(ProgressEvent(0, 10, None, 1.0)) == "step  0/10  0:01 elapsed"
    assert clock(3725) == "1:02:05"


def test_loss_plot_is_a_png(tmp_path):
    path = plot_losses([(1, 3.0), (2, 2.0), (3, 1.2)], tmp_path / "sub" / "loss.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (600, 350)
    assert plot_losses([], tmp_path / "empty.png").stat().st_size > 1000


# --- the command's refusals (before any model is loaded) ----------------------------------------

def test_train_command_refuses_bad_data_with_every_line_and_trains_nothing(tmp_path):
    from tutor_app.settings import Settings
    from tutor_app.training.commands import train_lora_command

    settings = Settings(models_dir=tmp_path / "models")
    out = tmp_path / "adapters" / "school.gguf"
    lines: list[str] = []
    assert train_lora_command(tmp_path, tmp_path / "school.bin", settings, out=lines.append) == 1
    assert lines == [f"--out must name a .gguf file (for example models/adapters/my-school.gguf), not "
                     f"{tmp_path / 'school.bin'}"]
    lines.clear()
    assert train_lora_command(tmp_path / "empty", out, settings, out=lines.append) == 1
    assert lines[0].startswith(f"{tmp_path / 'empty'}: no training files")
    data = tmp_path / "data"
    data.mkdir()
    (data / "tutoring.jsonl").write_text('{"messages": []}\nnot json\n', encoding="utf-8")
    lines.clear()
    assert train_lora_command(data, out, settings, out=lines.append) == 1
    assert lines == [f"{data / 'tutoring.jsonl'}:1: messages: list should have at least 2 items after validation, "
                     "not 0",
                     f"{data / 'tutoring.jsonl'}:2: not valid JSON (Expecting value at column 1)",
                     "2 problem(s) in the training files; fix them and run again (nothing was trained)"]
    assert not out.parent.exists()
