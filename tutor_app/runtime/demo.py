"""Is the running model a small demo model? Then students are told plainly not to trust it.

The shipped default (SmolLM2-135M) proves the plumbing, not the pedagogy: it calls a right
``2x = 8`` "incorrect" and writes gibberish in French. A model counts as a demo when it is the
shipped default, or when what is known of its size says it has under ``DEMO_MAX_PARAMS``
parameters: ``n_params`` in its details when a backend reports it, else the size written in its
name, as model files are named ("SmolLM2-135M", "Qwen2.5-0.5B"; "Mixtral-8x7B" is 56B).
"""

from __future__ import annotations

import re

from .default_model import DEFAULT_MODEL_FILE
from .protocol import ModelInfo

DEMO_MAX_PARAMS = 1e9
_SIZE = re.compile(r"(?<![A-Za-z0-9.])(?:(\d+)x)?(\d+(?:\.\d+)?)\s*([MB])(?![A-Za-z])", re.IGNORECASE)
_SCALE = {"m": 1e6, "b": 1e9}


def parameters_in_name(text: str) -> float | None:
    """The largest size written in a model's name or file name, in parameters; None when none is."""
    sizes = [(int(experts) if experts else 1) * float(number) * _SCALE[unit.lower()]
             for experts, number, unit in _SIZE.findall(text)]
    return max(sizes) if sizes else None


def is_demo_model(info: ModelInfo) -> bool:
    if not info.available:
        return False
    reported = info.detail.get("n_params") if isinstance(info.detail, dict) else None
    if isinstance(reported, (int, float)) and reported > 0:
        return reported < DEMO_MAX_PARAMS
    text = f"{info.name} {info.path or ''}"
    if DEFAULT_MODEL_FILE in text:
        return True
    size = parameters_in_name(text)
    return size is not None and size < DEMO_MAX_PARAMS


def shown_model_name(info: ModelInfo) -> str:
    """The model's name as a person reads it: no folder, no ``.gguf``."""
    name = info.name.replace("\\", "/").rsplit("/", 1)[-1]
    return re.sub(r"\.gguf$", "", name, flags=re.IGNORECASE)
