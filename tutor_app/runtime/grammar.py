"""JSON-schema grammars for decisions: a pydantic model's schema as GBNF that llama.cpp samples under.

Enums and string lengths are enforced while sampling, so a decision parses and validates on the
first try far more often than a prompt alone achieves; the result is still validated after.
"""

from __future__ import annotations

import json
import threading

from llama_cpp.llama_grammar import LlamaGrammar, json_schema_to_gbnf
from pydantic import BaseModel

from .protocol import ModelError

MAX_ENUM_RANGE = 256


def schema_grammar(schema: dict) -> str:
    """GBNF for a JSON schema, as ``LlamaGrammar.from_json_schema`` builds it, with two fixes:
    llama-cpp-python's string character rule admits raw control characters (a newline inside
    a string), which no JSON parser accepts (llama.cpp's own converter excludes them); and it
    ignores integer bounds, so a small range (a rubric's 0-4 points) becomes an enum."""
    gbnf = json_schema_to_gbnf(json.dumps(_bounded_integers_as_enums(schema)))
    return gbnf.replace('char ::= [^"\\\\]', 'char ::= [^"\\\\\\x7F\\x00-\\x1F]')


class GrammarCache:
    """One parsed grammar per schema: many calls (a class set of grading calls) share a few schemas.
    Each sequence still gets its own grammar *sampler* (it holds the parse state)."""

    def __init__(self) -> None:
        self._grammars: dict[str, LlamaGrammar] = {}
        self._lock = threading.Lock()

    def for_schema(self, schema: type[BaseModel]) -> LlamaGrammar:
        key = json.dumps(schema.model_json_schema(), sort_keys=True)
        with self._lock:
            grammar = self._grammars.get(key)
        if grammar is None:
            try:
                grammar = LlamaGrammar.from_string(schema_grammar(schema.model_json_schema()), verbose=False)
            except Exception as exc:
                raise ModelError(f"cannot build a grammar for {schema.__name__}: {exc}") from exc
            with self._lock:
                self._grammars[key] = grammar
        return grammar


def _bounded_integers_as_enums(node):
    if isinstance(node, list):
        return [_bounded_integers_as_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _bounded_integers_as_enums(value) for key, value in node.items()}
    if out.get("type") == "integer" and "enum" not in out:
        low = out.get("minimum", out["exclusiveMinimum"] + 1 if "exclusiveMinimum" in out else None)
        high = out.get("maximum", out["exclusiveMaximum"] - 1 if "exclusiveMaximum" in out else None)
        if low is not None and high is not None and 0 <= high - low < MAX_ENUM_RANGE:
            for key in ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                out.pop(key, None)
            out["enum"] = list(range(int(low), int(high) + 1))
    return out
