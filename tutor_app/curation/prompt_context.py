"""The model's view of prompt length, for rebuilding prompts exactly as the app built them.

The tutor chat fits earlier turns into the model's context by the model's own token count
(``dialogue/history.py``); to render the same prompt afterwards, the export counts with the same
tokenizer (the GGUF's vocabulary, no weights loaded) and the same context size (the planner's
choice for this machine, or ``--n-ctx``). Without a local GGUF (``--backend openai``) the chat's
own estimate is used, and the datasheet says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..dialogue.tutor_chat import DEFAULT_CONTEXT
from ..settings import Settings


@dataclass
class PromptContext:
    count_tokens: Callable[[str], int] | None
    n_ctx: int
    note: str
    close: Callable[[], None] = lambda: None


def app_prompt_context(settings: Settings) -> PromptContext:
    if settings.backend == "llama":
        try:
            from ..runtime.loading import check_gguf, plan_for, resolve_model
            from ..runtime.vocab import GgufVocab

            model = resolve_model(settings)
            n_ctx = settings.n_ctx or plan_for(settings, model.path, check_gguf(model.path)).n_ctx
            vocab = GgufVocab(model.path)
            return PromptContext(vocab.count_tokens, n_ctx, f"Prompts were fitted to {model.name}'s context of "
                                 f"{n_ctx} tokens, counted with its own tokenizer, as the app fits them.", vocab.close)
        except Exception as exc:  # no model file here: the chat's own estimate, said in the datasheet
            reason = f"the model could not be read ({exc})"
    else:
        reason = f"the model is served elsewhere (--backend {settings.backend})"
    n_ctx = settings.n_ctx or DEFAULT_CONTEXT
    return PromptContext(None, n_ctx, f"Prompts were fitted to a context of {n_ctx} tokens by the chat's own estimate "
                                      f"(4 characters a token): {reason}.")
