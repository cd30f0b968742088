"""Which evaluations an adapter has had, kept next to it: ``models/adapters/NAME.evals.json``.

``python app.py eval SUITE --lora models/adapters/NAME.gguf --out DIR`` may write its report
anywhere; the teacher's model panel lists the adapters and must find their reports. So each
evaluation of an adapter appends one entry here: the suite, where the report is, when, the
adapter's version (a retrained file at the same path is another adapter), and, when the base
was evaluated beside it, the comparison's recommendation and the headline differences.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from ..runtime.adapters import adapter_version
from .compare import Comparison

SUFFIX = ".evals.json"
KEPT = 20  # the newest evaluations an adapter keeps in its index


def index_path(adapter: str | Path) -> Path:
    adapter = Path(adapter)
    return adapter.with_name(adapter.stem + SUFFIX)


def record_evaluation(adapter: str | Path, suite: str, out_dir: str | Path, metrics: dict,
                      comparison: Comparison | None = None) -> Path:
    """Append this evaluation to the adapter's index. ``metrics``: report.json's headline values."""
    entry = {"suite": suite, "report": str(Path(out_dir).resolve()), "version": adapter_version(adapter),
             "at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "metrics": metrics}
    if comparison is not None:
        entry.update(recommendation=comparison.recommendation, reasons=list(comparison.reasons),
                     differences={m.metric: {"base": m.first, "adapter": m.second, "difference": m.difference,
                                             "low": m.low, "high": m.high, "verdict": m.verdict}
                                  for m in comparison.metrics})
    entries = [entry] + read_evaluations(adapter)
    path = index_path(adapter)
    path.write_text(json.dumps(entries[:KEPT], indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def read_evaluations(adapter: str | Path) -> list[dict]:
    """The adapter's evaluations, newest first; an unreadable index reads as none (it is rewritten next time)."""
    try:
        entries = json.loads(index_path(adapter).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
