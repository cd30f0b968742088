"""An evaluation as files a teacher can read: ``report.md``, ``report.json``, ``report.png``;
and two runs compared: ``comparison.md``, ``comparison.json``, ``comparison.png``.

report.json has one key per metric (``metrics.all_metrics``) plus ``run`` (what was evaluated)
and ``cases`` (every outcome and call, which ``compare`` reads back to bootstrap).
"""

from __future__ import annotations

import json
from pathlib import Path

from .compare import Comparison
from .metrics import HEADLINE, LABELS, all_metrics
from .runner import NO_ANSWER, EvalRun

REPORT_FILES = ("report.md", "report.json", "report.png")
COMPARISON_FILES = ("comparison.md", "comparison.json", "comparison.png")
SHOWN_REPLY_CHARS = 160


def _fmt(value: float | None, metric: str = "") -> str:
    if value is None:
        return "–"
    if metric == "latency_ms":
        return f"{value:.0f} ms"
    if metric in ("rubric_qwk", "reply_similarity"):
        return f"{value:.2f}"
    return f"{100 * value:.0f}%"


def model_title(model: dict) -> str:
    lora = model.get("lora")
    return model.get("name", "model") + (f" + adapter {Path(lora).name}" if lora else "")


def write_report(run: EvalRun, out_dir: str | Path) -> dict:
    """Write the three report files; return report.json's content."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = all_metrics(run)
    report = {"run": {"suite": run.suite, "model": run.model, "started": run.started,
                      "seconds": round(run.seconds, 2)},
              **metrics, "cases": run.as_dict()}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / "report.md").write_text(report_markdown(run, metrics), encoding="utf-8")
    _report_plot(metrics, out_dir / "report.png", model_title(run.model))
    return report


def read_run(report_dir: str | Path) -> EvalRun:
    path = Path(report_dir) / "report.json"
    return EvalRun.from_dict(json.loads(path.read_text(encoding="utf-8"))["cases"])


def report_markdown(run: EvalRun, metrics: dict) -> str:
    lines = [f"# Evaluation of {model_title(run.model)} on suite `{run.suite}`", "",
             f"Run {run.started}, {len(run.classification) + len(run.grading) + len(run.leaks) + len(run.tutoring)} cases, "
             f"{len(run.calls)} model calls, {run.seconds:.1f} s.", "",
             "| metric | value | measured on |", "|---|---|---|"]
    on = {
        "misconception_accuracy": f"{metrics['misconception_accuracy']['n']} answers "
                                  f"({metrics['misconception_accuracy']['no_answer']} without a model answer)",
        "rubric_qwk": f"{metrics['rubric_qwk']['criteria']} criteria",
        "rubric_exact": f"{metrics['rubric_exact']['pairs']} scores ({metrics['rubric_exact']['failed_cases']} "
                        "submissions the grader failed on)",
        "rubric_adjacent": f"{metrics['rubric_adjacent']['pairs']} scores",
        "answer_leak_rate": f"{metrics['answer_leak_rate']['leaked']} of {metrics['answer_leak_rate']['n']} replies",
        "reply_similarity": f"{metrics['reply_similarity']['n']} replies ({metrics['reply_similarity']['failed']} failed)",
        "json_validity": f"{metrics['json_validity']['calls']} decisions "
                         f"({metrics['json_validity']['invalid']} invalid)",
        "latency_ms": f"{len(run.calls)} calls",
    }
    for metric in HEADLINE:
        lines.append(f"| {LABELS[metric]} | {_fmt(metrics[metric]['value'], metric)} | {on[metric]} |")

    confusion = metrics["misconception_confusion"]
    if confusion["labels"]:
        lines += ["", "## Misconception classification", "",
                  "Rows: the teacher's label; columns: the model's diagnosis.", "",
                  "| teacher \\ model | " + " | ".join(confusion["labels"]) + " |",
                  "|---|" + "---|" * len(confusion["labels"])]
        for label, row in zip(confusion["labels"], confusion["matrix"]):
            if label != NO_ANSWER:
                lines.append(f"| {label} | " + " | ".join(str(v) if v else "·" for v in row) + " |")

    by_criterion = metrics["rubric_by_criterion"]
    if by_criterion:
        lines += ["", "## Rubric grading against the teachers' scores", "",
                  "| rubric/criterion | n | exact | adjacent | QWK |", "|---|---|---|---|---|"]
        for key, c in by_criterion.items():
            lines.append(f"| {key} | {c['n']} | {_fmt(c['exact'])} | {_fmt(c['adjacent'])} | "
                         f"{_fmt(c['kappa'], 'rubric_qwk')} |")
        for o in run.grading:
            if o.error:
                lines.append(f"\n- {o.case}: not graded ({o.error})")

    if run.leaks:
        lines += ["", "## Tutor replies to adversarial messages (before the leak guard)", ""]
        leaked = [o for o in run.leaks if o.leaked]
        if not leaked:
            lines.append("No reply gave an answer away.")
        for o in leaked:
            reply = " ".join(o.reply.split())
            if len(reply) > SHOWN_REPLY_CHARS:
                reply = reply[:SHOWN_REPLY_CHARS] + "…"
            lines.append(f"- **{o.case}** ({o.rule}: `{o.evidence}`): {reply}")
        for o in run.leaks:
            if o.error:
                lines.append(f"- {o.case}: no reply ({o.error})")

    if run.tutoring:
        lines += ["", "## Tutor replies against the teachers' replies", "",
                  "| case | chrF | the tutor said | the teacher's reply |", "|---|---|---|---|"]
        for o in run.tutoring:
            score = "failed" if o.similarity is None else f"{o.similarity:.2f}"
            lines.append(f"| {o.case} | {score} | {_cell(o.error or o.reply)} | {_cell(o.reference)} |")

    latency = metrics["latency_ms"]
    lines += ["", "## Latency per call", "", "| kind | n | mean | median | 95th percentile | max |",
              "|---|---|---|---|---|---|"]
    for kind in ("json", "chat"):
        s = latency[kind]
        lines.append(f"| {'decision (JSON)' if kind == 'json' else 'tutor reply'} | {s['n']} | "
                     + " | ".join(_fmt(s[k], "latency_ms") for k in ("mean", "median", "p95", "max")) + " |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """A reply shortened for one table cell (its first words are what a style changes first)."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text[:SHOWN_REPLY_CHARS] + "…" if len(text) > SHOWN_REPLY_CHARS else text


def _report_plot(metrics: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shares = [m for m in HEADLINE if m != "latency_ms"]
    confusion = metrics["misconception_confusion"]
    figure, (bars, matrix) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=100, gridspec_kw={"width_ratios": [1, 1.2]})
    try:
        values = [metrics[m]["value"] for m in shares]
        bars.barh([LABELS[m] for m in shares], [v if v is not None else 0 for v in values],
                  color=["#c0392b" if m == "answer_leak_rate" else "#2e86c1" for m in shares])
        for y, v in enumerate(values):
            bars.text(max(v or 0, 0) + 0.01, y, "not measured" if v is None else f"{v:.2f}", va="center", fontsize=8)
        bars.set_xlim(min(0, *(v for v in values if v is not None)) if any(v is not None for v in values) else 0, 1.15)
        bars.invert_yaxis()
        bars.set_title(title, fontsize=10)
        labels = confusion["labels"]
        if labels:
            matrix.imshow(confusion["matrix"], cmap="Blues")
            matrix.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
            matrix.set_yticks(range(len(labels)), labels, fontsize=7)
            for i, row in enumerate(confusion["matrix"]):
                for j, v in enumerate(row):
                    if v:
                        matrix.text(j, i, str(v), ha="center", va="center", fontsize=7)
            matrix.set_xlabel("model")
            matrix.set_ylabel("teacher")
            matrix.set_title("misconception confusion", fontsize=10)
        else:
            matrix.axis("off")
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)


def write_comparison(comparison: Comparison, out_dir: str | Path) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "comparison.json").write_text(json.dumps(comparison.as_dict(), indent=2, ensure_ascii=False),
                                             encoding="utf-8")
    first, second = model_title(comparison.first), model_title(comparison.second)
    lines = [f"# {second} against {first}", "",
             f"Suite `{comparison.suite}`, {comparison.cases} cases in both runs. Difference = second minus first; "
             f"95% interval from a paired bootstrap over the cases ({comparison.resamples} resamples).", "",
             f"**Recommendation: {comparison.recommendation}.** " + "; ".join(comparison.reasons) + ".", "",
             f"| metric | {first} | {second} | difference | 95% interval | verdict |", "|---|---|---|---|---|---|"]
    for m in comparison.metrics:
        interval = "–" if m.low is None else f"{_signed(m.low, m.metric)} to {_signed(m.high, m.metric)}"
        lines.append(f"| {LABELS[m.metric]} | {_fmt(m.first, m.metric)} | {_fmt(m.second, m.metric)} | "
                     f"{'–' if m.difference is None else _signed(m.difference, m.metric)} | {interval} | {m.verdict} |")
    (out_dir / "comparison.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _comparison_plot(comparison, out_dir / "comparison.png")


def _signed(value: float, metric: str) -> str:
    if metric == "latency_ms":
        return f"{value:+.0f} ms"
    if metric in ("rubric_qwk", "reply_similarity"):
        return f"{value:+.2f}"
    return f"{100 * value:+.0f} pts"


def _comparison_plot(comparison: Comparison, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    shown = [m for m in comparison.metrics if m.metric != "latency_ms" and m.difference is not None]
    figure, axes = plt.subplots(figsize=(7, 0.6 * max(3, len(shown)) + 1), dpi=100)
    try:
        colours = {"better": "#27ae60", "worse": "#c0392b"}
        for y, m in enumerate(shown):
            low = m.low if m.low is not None else m.difference
            high = m.high if m.high is not None else m.difference
            axes.errorbar(m.difference, y, xerr=[[m.difference - low], [high - m.difference]], fmt="o", capsize=4,
                          color=colours.get(m.verdict, "#7f8c8d"))
        axes.axvline(0, color="black", linewidth=0.8)
        axes.set_yticks(range(len(shown)), [LABELS[m.metric] for m in shown], fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel("difference (second - first), 95% interval")
        axes.set_title(f"{model_title(comparison.second)} vs {model_title(comparison.first)}", fontsize=9)
        figure.tight_layout()
        figure.savefig(path, format="png")
    finally:
        plt.close(figure)
