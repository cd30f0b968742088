"""Prompt templates live in ``prompts/`` as Jinja files that a teacher or developer can read and tune.

Rendering is strict: a variable the code forgot to pass raises ``MissingVariables`` instead of
rendering an empty hole into what the model sees (the idea of llm's ``Template.interpolate``).
A template's text is the system message; ``render_messages`` splits a template on lines of the
form ``### user`` / ``### assistant`` / ``### system`` when a template needs several turns.
"""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
from jinja2 import meta

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_ROLE_LINE = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)


class MissingVariables(KeyError):
    pass


class PromptLibrary:
    def __init__(self, directory: Path = PROMPTS_DIR) -> None:
        self.directory = Path(directory)
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.directory)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=False,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )

    def names(self) -> list[str]:
        return sorted(p.name[: -len(".j2")] for p in self.directory.glob("*.j2"))

    def variables(self, name: str) -> set[str]:
        """The variables a template uses, so tests can check the code passes all of them."""
        source = self._env.loader.get_source(self._env, f"{name}.j2")[0]
        return meta.find_undeclared_variables(self._env.parse(source))

    def render(self, name: str, **variables) -> str:
        missing = self.variables(name) - set(variables)
        if missing:
            raise MissingVariables(f"prompt {name!r} needs {', '.join(sorted(missing))}")
        return self._env.get_template(f"{name}.j2").render(**variables).strip()

    def render_messages(self, name: str, **variables) -> list[dict]:
        text = self.render(name, **variables)
        parts = _ROLE_LINE.split(text)
        messages: list[dict] = []
        if parts[0].strip():
            messages.append({"role": "system", "content": parts[0].strip()})
        for role, content in zip(parts[1::2], parts[2::2]):
            messages.append({"role": role, "content": content.strip()})
        return messages

