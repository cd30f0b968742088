"""The adapters a school has: every ``*.gguf`` in ``models/adapters/``, with what is known about it.

``train-lora`` writes ``NAME.gguf`` there with ``NAME.train.json`` (what it was trained on, for
how long, the final loss) and ``NAME.loss.png``; ``eval --lora`` appends to ``NAME.evals.json``
(``evals/adapter_index.py``). The model panel shows all of it, so a teacher picks an adapter by
its evidence, not its file name. A file without its records is listed too (it was trained
elsewhere), and an unreadable record reads as missing, never as an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..evals.adapter_index import read_evaluations

ADAPTERS_DIR = "adapters"  # under the models folder


@dataclass(frozen=True)
class AdapterEntry:
    name: str  # the file name, which is also how the panel and the log name it
    path: Path
    size_bytes: int
    modified: datetime
    training: dict | None = None  # NAME.train.json
    evaluations: list[dict] = field(default_factory=list)  # newest first
    loss_plot: Path | None = None

    @property
    def latest_evaluation(self) -> dict | None:
        return self.evaluations[0] if self.evaluations else None


def adapters_dir(models_dir: str | Path) -> Path:
    return Path(models_dir) / ADAPTERS_DIR


def list_adapters(models_dir: str | Path) -> list[AdapterEntry]:
    """The adapters in ``models_dir/adapters``, newest first."""
    folder = adapters_dir(models_dir)
    if not folder.is_dir():
        return []
    entries = []
    for path in folder.glob("*.gguf"):
        if not path.is_file():
            continue
        stat = path.stat()
        plot = path.with_name(path.stem + ".loss.png")
        entries.append(AdapterEntry(name=path.name, path=path, size_bytes=stat.st_size,
                                    modified=datetime.fromtimestamp(stat.st_mtime, timezone.utc),
                                    training=_json(path.with_name(path.stem + ".train.json")),
                                    evaluations=read_evaluations(path), loss_plot=plot if plot.is_file() else None))
    entries.sort(key=lambda e: (e.modified, e.name), reverse=True)
    return entries


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
