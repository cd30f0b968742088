"""Training examples: JSONL files of chat conversations, the format LoRA trainers read.

One example per line: ``{"messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}``.
An assistant message may carry ``"weight": 0`` to stay in the conversation as history without
being trained on (OpenAI's fine-tuning format has the same field): a tutoring example keeps the
tutor's earlier turns for context, but only the reply a teacher approved is learned. Other
top-level keys (an export's ``meta``: task, unit, pseudonymous student) are kept, not trained.

Every problem comes back as ``ExampleError`` with file, line and field, all of them at once, so
a teacher or IT person fixes the file in one go; nothing is trained from a file with errors.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..curriculum.errors import field_path, shown_file

HELD_OUT_MARKERS = ("heldout", "held-out", "held_out")
MAX_LINE_CHARS = 200_000  # one conversation; anything bigger is a mistake, not an example


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str
    weight: Literal[0, 1] = 1


class ChatExample(BaseModel):
    model_config = ConfigDict(extra="allow")

    messages: list[ChatMessage] = Field(min_length=2)

    @model_validator(mode="after")
    def _has_something_to_learn(self) -> "ChatExample":
        if not any(m.role == "user" for m in self.messages):
            raise ValueError("a conversation needs a user message")
        if not any(m.role == "assistant" and m.weight and m.content.strip() for m in self.messages):
            raise ValueError("no assistant reply to learn (every assistant message is empty or has weight 0)")
        return self

    def as_messages(self) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.content} for m in self.messages]

    @property
    def trained_indexes(self) -> set[int]:
        return {i for i, m in enumerate(self.messages) if m.role == "assistant" and m.weight}


@dataclass(frozen=True)
class ExampleError:
    file: Path
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{shown_file(self.file)}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass
class LoadedExamples:
    examples: list[ChatExample]
    errors: list[ExampleError]
    files: list[Path]


def read_examples(path: str | Path) -> tuple[list[ChatExample], list[ExampleError]]:
    """The valid examples of one JSONL file and the problems of the others (blank lines skipped)."""
    path = Path(path)
    examples: list[ChatExample] = []
    errors: list[ExampleError] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], [ExampleError(path, 1, "", "the file is not UTF-8 text")]
    except OSError as exc:
        return [], [ExampleError(path, 1, "", f"cannot read the file: {exc.strerror or exc}")]
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE_CHARS:
            errors.append(ExampleError(path, number, "", f"the line has {len(line):,} characters; at most "
                                                          f"{MAX_LINE_CHARS:,} are allowed"))
            continue
        try:
            data: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(ExampleError(path, number, "", f"not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(data, dict):
            errors.append(ExampleError(path, number, "", 'expected an object like {"messages": [...]}'))
            continue
        try:
            examples.append(ChatExample.model_validate(data))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                message = err["msg"].removeprefix("Value error, ")
                errors.append(ExampleError(path, number, field_path(tuple(err["loc"])), message[:1].lower() + message[1:]))
    return examples, errors


def training_files(data_dir: str | Path) -> list[Path]:
    """The JSONL files to train on: ``DIR/train/*.jsonl`` when the export wrote a train split,
    else ``DIR/*.jsonl``; never a held-out file (a name containing "heldout"/"held-out")."""
    data_dir = Path(data_dir)
    folder = data_dir / "train" if (data_dir / "train").is_dir() else data_dir
    return sorted(p for p in folder.glob("*.jsonl")
                  if p.is_file() and not any(marker in p.name.lower() for marker in HELD_OUT_MARKERS))


def load_training_data(data_dir: str | Path) -> LoadedExamples:
    files = training_files(data_dir)
    examples: list[ChatExample] = []
    errors: list[ExampleError] = []
    for path in files:
        found, problems = read_examples(path)
        examples.extend(found)
        errors.extend(problems)
    return LoadedExamples(examples, errors, files)
