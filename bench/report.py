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

RESULTS = Path(__file__).resolve().parent / "results"


def _load(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _goal(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def turn_latency(folder: Path) -> list[str]:
    lines = ["| model | TTFT turn 2 (s) | TTFT turn 20 (s) | turn 20 / turn 2 | last 3 / turns 2-4 | "
             "evaluated / new tokens (turns 2-20) | turn 20 without reuse (s) | goal (<= 1.5x) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in ("turn_latency-smollm2", "turn_latency-smollm2-moe"):
        d = _load(folder, name)
        if d is None:
            continue
        s = d["summary"]
        lines.append(f"| {d['model']} | {s['ttft_turn2_s']:.3f} | {s['ttft_last_turn_s']:.3f} | "
                     f"{s['ttft_ratio_last_vs_turn2']:.2f} | {s['ttft_ratio_last3_vs_turns2_4']:.2f} | "
                     f"{s['evaluated_tokens_turns2_on']} / {s['new_tokens_turns2_on']} ({s['evaluated_over_new']:.2f}) | "
                     f"{s['last_turn_ttft_without_reuse_s']:.2f} | {_goal(s['goal_met'])} |")
    return lines


def interleaved(folder: Path) -> list[str]:
    lines = ["| model | median TTFT, one student (s) | median TTFT, 8 interleaved (s) | ratio | "
             "without saved states (s) | mean evaluated / prompt tokens | same replies | goal (<= 1.5x) |",
             "|---|---|---|---|---|---|---|---|"]
    for name in ("interleaved-smollm2", "interleaved-smollm2-moe"):
        d = _load(folder, name)
        if d is None:
            continue
        s = d["summary"]
        control = s.get("interleaved_without_saved_states")
        without = f"{control['median_ttft_s']:.3f}" if control else "-"
        lines.append(f"| {d['model']} | {s['single']['median_ttft_s']:.3f} | {s['interleaved']['median_ttft_s']:.3f} | "
                     f"{d['ttft_ratio_interleaved_vs_single']:.2f} | {without} | "
                     f"{s['interleaved']['mean_evaluated_tokens']:.0f} / {s['interleaved']['mean_prompt_tokens']:.0f} | "
                     f"{'yes' if d.get('same_replies_single_vs_interleaved') else 'no'} | {_goal(d['goal_met'])} |")
    return lines


def overhead(folder: Path) -> list[str]:
    lines = ["| model | bare `generate` (tok/s) | app backend (tok/s) | bare `create_chat_completion` (tok/s) | "
             "backend / bare | goal (>= 0.95) |", "|---|---|---|---|---|---|"]
    for name in ("overhead-smollm2", "overhead-smollm2-moe"):
        d = _load(folder, name)
        if d is None:
            continue
        m = d["decode_tok_s_median"]
        lines.append(f"| {d['model']} | {m['bare_generate']:.1f} | {m['backend']:.1f} | {m['bare_chat_completion']:.1f} | "
                     f"{d['ratio_backend_vs_bare']:.3f} | {_goal(d['goal_met'])} |")
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
    if d is None:
        return []
    s = d["seconds_per_submission"]
    return ["| model | submissions | graded | model calls | elapsed (s) | submissions / minute | "
            "s per submission (mean / min / max) |", "|---|---|---|---|---|---|---|",
            f"| {d['model']} | {d['submissions']} | {d['graded']} | {d['model_calls']} | {d['elapsed_s']:.0f} | "
            f"{d['submissions_per_minute']:.2f} | {s['mean']:.1f} / {s['min']:.1f} / {s['max']:.1f} |"]


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
             f"{t['adapter_bytes'] / 2**20:.1f} MiB, {t['tensors']} tensors, r {t['rank']} | "
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


SECTIONS = [("turn_latency", turn_latency), ("interleaved", interleaved), ("overhead", overhead),
            ("roofline", roofline), ("batch_grading", batch_grading), ("bkt_fit", bkt_fit),
            ("finetune_loop", finetune_loop)]


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
