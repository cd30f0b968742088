"""Command handlers for ``python app.py eval SUITE [--lora FILE] --out DIR`` and the comparison.

Each returns an exit code (0 done, 1 a problem it printed) and never raises for bad input: a
suite with errors prints them like ``check``; a model that cannot load prints why. The
``backend_factory`` argument lets a caller (or a test) supply the model; by default it is the
runtime's own loader with ``--lora`` set, i.e. what the app would run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..runtime.protocol import ModelBackend
from .adapter_index import record_evaluation
from .compare import compare_runs
from .metrics import HEADLINE, LABELS, scalar_metrics
from .report import model_title, read_run, write_comparison, write_report
from .runner import EvalRun, run_suite
from .suite import load_suite

Print = Callable[[str], None]
BackendFactory = Callable[[object], ModelBackend]  # settings -> backend


def _load_backend(settings) -> ModelBackend:
    from ..runtime.loading import load_backend

    return load_backend(settings)


def _library(settings, out: Print):
    from ..curriculum.library import CurriculumLibrary

    library = CurriculumLibrary(Path(settings.curricula))
    report = library.reload()
    if report.errors:
        out(f"note: {len(report.errors)} curriculum problem(s); cases on those units cannot run "
            "(python app.py --check lists them)")
    return library


def evaluate(suite_path: str | Path, lora: str | Path | None, out_dir: str | Path, settings, *,
             backend_factory: BackendFactory | None = None, out: Print = print) -> EvalRun | None:
    """Run the suite with the settings' model (and ``lora``); write the report. None when it could not run."""
    from ..prompting import PromptLibrary

    library = _library(settings, out)
    loaded = load_suite(suite_path, library)
    for error in loaded.errors:
        out(str(error))
    if loaded.suite is None:
        out(f"{suite_path}: {len(loaded.errors)} problem(s); nothing was evaluated")
        return None
    if lora is not None and not Path(lora).is_file():
        out(f"the adapter {lora} does not exist")
        return None
    model_settings = settings.model_copy(update={"lora": Path(lora) if lora else None})
    backend = (backend_factory or _load_backend)(model_settings)
    try:
        info = backend.info
        if not info.available:
            out(f"no model to evaluate: {info.problem or 'none is loaded'}")
            return None
        out(f"evaluating {model_title({'name': info.name, 'lora': lora})} on {loaded.suite.id}")
        run = run_suite(loaded.suite, library, backend, PromptLibrary(), progress=out)
    finally:
        backend.close()
    report = write_report(run, out_dir)
    for metric in HEADLINE:
        value = report[metric]["value"]
        shown = "not measured" if value is None else (f"{value:.0f}" if metric == "latency_ms" else f"{value:.3f}")
        out(f"{LABELS[metric]}: {shown}")
    out(f"report: {Path(out_dir) / 'report.md'}")
    return run


def eval_command(suite: str | Path, lora: str | Path | None, out_dir: str | Path, settings, *,
                 backend_factory: BackendFactory | None = None, out: Print = print) -> int:
    return 0 if evaluate(suite, lora, out_dir, settings, backend_factory=backend_factory, out=out) else 1


def check_suites_command(paths: list[str | Path], settings, *, out: Print = print) -> int:
    """``check`` for eval suites: one line per problem (file:line: field: what), 0 when all are valid."""
    library = _library(settings, out)
    problems = 0
    for path in paths:
        loaded = load_suite(path, library)
        for error in loaded.errors:
            out(str(error))
        problems += len(loaded.errors)
    out(f"{len(paths)} suite(s), " + (f"{problems} problem(s)" if problems else "all valid"))
    return 1 if problems else 0


def compare_command(first_dir: str | Path, second_dir: str | Path, out_dir: str | Path, *, out: Print = print) -> int:
    """Compare two report folders (each with report.json from the same suite)."""
    runs = []
    for folder in (first_dir, second_dir):
        try:
            runs.append(read_run(folder))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            out(f"{folder}: not an evaluation report folder ({type(exc).__name__}: {exc})")
            return 1
    if runs[0].suite != runs[1].suite:
        out(f"the two runs evaluated different suites ({runs[0].suite}, {runs[1].suite}); compare runs of one suite")
        return 1
    _write_comparison(compare_runs(*runs), out_dir, out)
    return 0


def _write_comparison(comparison, out_dir: str | Path, out: Print) -> None:
    write_comparison(comparison, out_dir)
    out(f"recommendation: {comparison.recommendation} ({'; '.join(comparison.reasons)})")
    out(f"comparison: {Path(out_dir) / 'comparison.md'}")


def eval_adapter_command(suite: str | Path, lora: str | Path, out_dir: str | Path, settings, *,
                         backend_factory: BackendFactory | None = None, out: Print = print) -> int:
    """The base model and the adapter on one suite, then compared: ``DIR/base``, ``DIR/adapter``, ``DIR``.
    The comparison is recorded next to the adapter (``adapter_index``) for the teacher's model panel."""
    out_dir = Path(out_dir)
    runs = []
    for name, adapter in (("base", None), ("adapter", lora)):
        run = evaluate(suite, adapter, out_dir / name, settings, backend_factory=backend_factory, out=out)
        if run is None:
            return 1
        runs.append(run)
    comparison = compare_runs(*runs)
    _write_comparison(comparison, out_dir, out)
    record_evaluation(lora, runs[1].suite, out_dir, scalar_metrics(runs[1]), comparison)
    return 0


def eval_one_adapter_command(suite: str | Path, lora: str | Path, out_dir: str | Path, settings, *,
                             backend_factory: BackendFactory | None = None, out: Print = print) -> int:
    """The adapter alone (the base was evaluated before); recorded next to the adapter too."""
    run = evaluate(suite, lora, out_dir, settings, backend_factory=backend_factory, out=out)
    if run is None:
        return 1
    record_evaluation(lora, run.suite, out_dir, scalar_metrics(run))
    return 0
