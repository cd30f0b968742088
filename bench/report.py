"""Turn the benchmarks' JSON files into the Markdown tables of bench/RESULTS.md.

RESULTS.md keeps the figures with their machine and date, and a person's reading of them; this
script only writes the tables, so the figures there are always the ones in the JSON files and
nobody copies numbers by hand.

    python bench/report.py [bench/results]      # prints Markdown
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Iterator

RESULTS = Path(__file__).resolve().parent / "results"


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _models(folder: Path, benchmark: str) -> Iterator[dict]:
    """The benchmark's results on the dense default model, then on the MoE, where present."""
    for name in (f"{benchmark}-smollm2", f"{benchmark}-smollm2-moe"):
        d = _load(folder, name)
        if d is not None:
            yield d


def _table(headers: list[str], rows: list[list[object]]) -> list[str]:
    """Markdown table lines."""
    return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + \
        ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def _goal(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def turn_latency(folder: Path) -> list[str]:
    rows = []
    for d in _models(folder, "turn_latency"):
        for config, data in d["configs"].items():
            s = data["summary"]
            rows.append([d["model"], config, f"{s['ttft_turn2_s']:.3f}", f"{s['ttft_last_turn_s']:.3f}",
                         f"{s['ttft_ratio_last_vs_turn2']:.2f}", f"{s['ttft_ratio_max_over_turns_8_20']:.2f}",
                         s["evaluated_tokens_turns2_on"], _goal(d["goal_met"]) if config == "app" else "-"])
    return _table(["model", "configuration", "TTFT turn 2 (s)", "TTFT turn 20 (s)", "turn 20 / turn 2",
                   "worst of turns 8-20 / turn 2", "prompt tokens evaluated, turns 2-20",
                   "goal (turn 20 <= 1.2x turn 2)"], rows)


def batching(folder: Path) -> list[str]:
    rows = [[d["model"], r["students"], f"{r['one_after_another_tok_s']:.1f}", f"{r['together_tok_s']:.1f}",
             f"{r['speedup']:.2f}", f"{r['one_after_another_tokens_per_cpu_s']:.1f} / {r['together_tokens_per_cpu_s']:.1f}",
             f"{r['speedup_per_cpu_s']:.2f}", _ceiling(r)]
            for d in _models(folder, "batching") for r in d["per_count"]]
    return _table(["model", "students", "one after another (tok/s)", "together (tok/s)", "speedup",
                   "tokens per CPU second, alone / together", "speedup per CPU second",
                   "bare llama_decode, k sequences / one (tok/s)"], rows)


def _ceiling(r: dict) -> str:
    """The bare decode ceiling of the same run (files from before it was measured have none)."""
    if r.get("bare_decode_speedup") is None:
        return "-"
    return (f"{r['bare_decode_together_tok_s']:.1f} / {r['bare_decode_alone_tok_s']:.1f} "
            f"= {r['bare_decode_speedup']:.2f}")


def bare_batch_context(folder: Path) -> list[str]:
    rows = [[d["model"], r["context_tokens"], r["sequences"], r["tok_s"], f"{r['vs_one']:.2f}x"]
            for d in _models(folder, "bare_batch_context") for r in d["runs"]]
    if not rows:
        return []
    return ["Bare `llama_decode`, 1 thread, flash attention off as in the app: each sequence first holds "
            "`context` tokens, then all decode together.", ""] + \
        _table(["model", "context", "sequences", "tok/s", "vs one"], rows)


def interleaved(folder: Path) -> list[str]:
    lines = ["| model | median TTFT, one student (s) | median TTFT, 8 interleaved (s) | ratio | "
             "without saved states (s) | mean evaluated / prompt tokens | same replies | goal (<= 1.5x) |",
             "|---|---|---|---|---|---|---|---|"]
    for d in _models(folder, "interleaved"):
        s = d["summary"]
        control = s.get("interleaved_without_saved_states")
        without = f"{control['median_ttft_s']:.3f}" if control else "-"
        lines.append(f"| {d['model']} | {s['single']['median_ttft_s']:.3f} | {s['interleaved']['median_ttft_s']:.3f} | "
                     f"{d['ttft_ratio_interleaved_vs_single']:.2f} | {without} | "
                     f"{s['interleaved']['mean_evaluated_tokens']:.0f} / {s['interleaved']['mean_prompt_tokens']:.0f} | "
                     f"{'yes' if d.get('same_replies_single_vs_interleaved') else 'no'} | {_goal(d['goal_met'])} |")
    return lines


def overhead(folder: Path) -> list[str]:
    lines = ["| model | bare `generate` (tok/s) | through the model worker (tok/s) | app backend (tok/s) | "
             "bare `create_chat_completion` (tok/s) | worker / bare | backend / bare | goal (>= 0.95) |",
             "|---|---|---|---|---|---|---|---|"]
    for d in _models(folder, "overhead"):
        m = d["decode_tok_s_median"]
        worker = f"{m['worker']:.1f}" if "worker" in m else "–"
        worker_ratio = f"{d['ratio_worker_vs_bare']:.3f}" if d.get("ratio_worker_vs_bare") else "–"
        met = d.get("goal_met_worker", d["goal_met"]) and d["goal_met"]
        lines.append(f"| {d['model']} | {m['bare_generate']:.1f} | {worker} | {m['backend']:.1f} | "
                     f"{m['bare_chat_completion']:.1f} | {worker_ratio} | {d['ratio_backend_vs_bare']:.3f} | "
                     f"{_goal(met)} |")
    return lines


def cpu_buffers(folder: Path) -> list[str]:
    d = _load(folder, "cpu_buffers")
    if d is None:
        return []
    lines = ["| model | CPU weight buffers | prefill, CPU time (tok/s) | decode, CPU time (tok/s) | prefill, wall (tok/s) | "
             "decode, wall (tok/s) | same greedy text as off | what the plan line says |",
             "|---|---|---|---|---|---|---|---|"]
    labels = {"off": "off (plain)", "repack": "auto: REPACK by overrides, no AMX", "on": "on (AMX and REPACK)"}
    for model, modes in d["models"].items():
        for label, r in modes.items():
            if r["crashed"]:
                lines.append(f"| {model} | {labels[label]} | crashed ({r['crashed']}) | – | – | – | – | – |")
                continue
            same = "–" if r["same_text_as_off"] is None else ("yes" if r["same_text_as_off"] else "no")
            lines.append(f"| {model} | {labels[label]} | {r.get('prefill_cpu_tok_s', '–')} | "
                         f"{r.get('decode_cpu_tok_s', '–')} | {r['prefill_tok_s']:.1f} | {r['decode_tok_s']:.1f} | "
                         f"{same} | {(r['why'] or '').split('opt in); ')[-1]} |")
    return lines


def roofline(folder: Path) -> list[str]:
    d = _load(folder, "roofline")
    if d is None:
        return []
    bw = d["bandwidth"]
    lines = [f"Measured memory bandwidth: {bw['read_bytes_per_s_1_thread'] / 1e9:.1f} GB/s read with "
             f"{bw['threads']} thread ({bw['copy_bytes_per_s'] / 1e9:.1f} GB/s copy).", "",
             "| model | experts | weights read per token (MB) | bound (tok/s) | measured decode (tok/s) | "
             "fraction of bound | GFLOP/s per thread |", "|---|---|---|---|---|---|---|"]
    for m in d["models"]:
        lines.append(f"| {m['model']} | {m['experts']} | {m['bytes_per_token']['total'] / 1e6:.1f} | "
                     f"{m['bound_tokens_per_s']:.1f} | {m['decode_tokens_per_s']:.1f} | {m['fraction_of_bound']:.2f} | "
                     f"{m['achieved_gflops_per_thread']:.1f} |")
    return lines


def batch_grading(folder: Path) -> list[str]:
    d = _load(folder, "batch_grading")
    if d is None or "runs" not in d:
        return []
    rows = [[d["model"], d["submissions"], run["parallel"], run["graded"], run["model_calls"], f"{run['elapsed_s']:.0f}",
             f"{run['submissions_per_minute']:.2f}", f"{run['cpu_s']:.0f}", f"{run['submissions_per_cpu_minute']:.2f}"]
            for run in d["runs"]]
    return _table(["model", "submissions", "slots", "graded", "model calls", "elapsed (s)", "submissions / minute",
                   "CPU (s)", "submissions / CPU minute"], rows) + [
        "", f"The first configuration against the last: {d['speedup_first_vs_last']}x the submissions per minute, "
            f"{d['speedup_per_cpu_first_vs_last']}x per CPU minute; {d['same_totals']} of {d['submissions']} totals "
            "the same in every run."]


def bkt_fit(folder: Path) -> list[str]:
    d = _load(folder, "bkt_fit")
    if d is None:
        return []
    lines = ["| students x steps | fits | adopted | refused (reason) | max error of adopted, p90 / max | "
             "each interval holds truth (p_init / p_transit / p_guess / p_slip) | all four hold | s per fit |",
             "|---|---|---|---|---|---|---|---|"]
    for r in d["sizes"]:
        refused = ", ".join(f"{n} {k.removeprefix('rejected: ')}" for k, n in r["outcomes"].items() if k != "fitted")
        error = r["fitted_max_error"]
        shown_error = f"{error['p90']:.3f} / {error['max']:.3f}" if error else "-"
        each = r["interval_holds_truth_share_per_parameter"] or {}
        lines.append(f"| {r['students']} x {r['steps']} | {r['fits']} | {r['outcomes'].get('fitted', 0)} | "
                     f"{refused or '-'} | {shown_error} | {' / '.join(f'{v:.2f}' for v in each.values())} | "
                     f"{r['intervals_hold_truth_share']:.2f} | {r['seconds_per_fit_median']:.3f} |")
    return lines


def signin_flood(folder: Path) -> list[str]:
    d = _load(folder, "signin_flood")
    if d is None:
        return []
    lines = [f"Wrong PINs at {d['rate_per_s']} tries/s from {d['clients']} clients, {d['seconds']:.0f} s per run; "
             "a signed-in student's `/session_state` meanwhile.", "",
             "| sign-in | flood | student's calls | p50 (s) | p90 (s) | tries | secrets checked |",
             "|---|---|---|---|---|---|---|"]
    for r in d["runs"]:
        lines.append(f"| {r['sign_in']} | {'yes' if r['flood'] else 'no'} | {r['calls']} | {r['p50_s']:.3f} | "
                     f"{r['p90_s']:.3f} | {r['tries']} | {r['secrets_checked']} |")
    return lines


def classroom(folder: Path) -> list[str]:
    lines: list[str] = []
    for d in _models(folder, "classroom"):
        lines += _classroom(d) + [""]
    return lines[:-1]


def _classroom(d: dict) -> list[str]:
    def f(value, digits=2):
        return "-" if value is None else f"{value:.{digits}f}"

    lines = [f"{d['model']}, think time {d['think_s']} s (seeded {d['seed']}); the real app, each student "
             f"through {d.get('client', 'gradio_client')}. Burst: every student asks at the same instant.", "",
             "| mode | students | TTFT p50 / p95 (s) | reply p50 / p95 (s) | tok/s, whole class | burst wall (s) | "
             "burst tok/s | check/hint p95 while busy (s) | errors | attempts stored / sent |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in d["runs"]:
        lines.append(f"| {r['mode']} | {r['students']} | {f(r['ttft_p50_s'])} / {f(r['ttft_p95_s'])} | "
                     f"{f(r['reply_p50_s'])} / {f(r['reply_p95_s'])} | {f(r['decode_tokens_per_s'], 1)} | "
                     f"{f(r['burst_wall_s'])} | {f(r['burst_tokens_per_s'], 1)} | {f(r['busy_action_p95_s'], 3)} | "
                     f"{r['errors']} | {r['attempts_stored']} / {r['answers_with_verdict']} |")
    lines.append("")
    for size, ratios in d["batching_vs_parallel_1"].items():
        lines.append(f"- {size} student{'' if size == '1' else 's'}, batching against `--parallel 1`: burst {f(ratios['burst_wall'])}x sooner, "
                     f"{f(ratios['burst_tokens_per_s'])}x the tokens/s (target at 8: 2.5x sooner).")
    return lines


def client_overhead(folder: Path) -> list[str]:
    d = _load(folder, "client_overhead")
    if d is None:
        return []
    intro = (f"An answer check or a hint, {d['actions_per_student']} per student, think time {d['think_s']} s "
             "(seeded), the app with no model (`--backend fake`); the clients take turns in one run.")
    rows = [[r["students"], r["client"], r["actions"], *(f"{r[k]:.3f}" for k in ("p50_s", "p95_s", "max_s")),
             r["errors"]] for r in d["runs"]]
    return [intro, ""] + _table(["students", "client", "actions", "p50 (s)", "p95 (s)", "max (s)", "errors"], rows)


def finetune_loop(folder: Path) -> list[str]:
    d = _load(folder, "finetune_loop")
    if d is None:
        return []
    t, e = d["training"], d["evaluation"]
    lines = ["| steps x batch | examples (reply tokens) | training (s) | loss first -> last | adapter | "
             "replies opening with the phrase, base -> adapter | recommendation |",
             "|---|---|---|---|---|---|---|",
             f"| {t['steps']} x 4 | {t['examples']} ({t['trained_tokens']}) | {t['train_seconds']:.0f} "
             f"({t['total_seconds']:.0f} with loading and conversion) | {t['loss_first']:.2f} -> {t['loss_last']:.2f} | "
             f"{t['adapter_bytes'] / 2**20:.1f} MiB, {t['tensors']} tensors, r {'/'.join(map(str, t['rank'])) if isinstance(t['rank'], list) else t['rank']} | "
             f"{e['opening_with_phrase']['base']}/{e['tutoring_cases']} -> "
             f"{e['opening_with_phrase']['adapter']}/{e['tutoring_cases']} | {e['recommendation']} |", "",
             "| metric (held-out students) | base | adapter | difference | 95% interval | verdict |",
             "|---|---|---|---|---|---|"]
    for metric, m in e["metrics"].items():
        if m["first"] is None:
            continue
        interval = "-" if m["low"] is None else f"{m['low']:+.3f} to {m['high']:+.3f}"
        lines.append(f"| {metric} | {m['first']:.3f} | {m['second']:.3f} | {m['difference']:+.3f} | {interval} | "
                     f"{m['verdict']} |")
    return lines


SECTIONS = [("turn_latency", turn_latency), ("batching", batching), ("bare_batch_context", bare_batch_context),
            ("interleaved", interleaved),
            ("overhead", overhead), ("roofline", roofline), ("batch_grading", batch_grading), ("bkt_fit", bkt_fit),
            ("cpu_buffers", cpu_buffers), ("signin_flood", signin_flood), ("finetune_loop", finetune_loop),
            ("classroom", classroom), ("client_overhead", client_overhead)]


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else RESULTS
    for title, section in SECTIONS:
        lines = section(folder)
        if lines:
            print(f"### {title}\n")
            print("\n".join(lines))
            print()


if __name__ == "__main__":
    main(sys.argv[1:])
