"""Which LoRA adapter a model output came from: a version label of the adapter file's content.

A school retrains and overwrites ``models/adapters/my-school.gguf``; the outputs of the old and
the new adapter must not be counted as one version in the dashboard's trends. So the label is
the file's name and the start of its SHA-256 (``my-school.gguf@3f2a9c1b0d``): stable while the
file is, new when it changes. Reading a few hundred MB once per switch is cheap next to loading it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

HASH_CHARS = 10
CHUNK = 1 << 20


def adapter_version(path: str | Path) -> str:
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return f"{path.name}@{digest.hexdigest()[:HASH_CHARS]}"


def adapter_file_name(version: str | None) -> str | None:
    """``my-school.gguf@3f2a9c1b0d`` -> ``my-school.gguf`` (None stays None: the base model)."""
    return version.rsplit("@", 1)[0] if version else None
