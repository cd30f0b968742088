"""Prefill and decode with llama.cpp's CPU extra buffers off, REPACK only (by tensor overrides), and on.

Why: on a CPU that reports AMX, llama.cpp's AMX weight buffers crash on decode on some machines
(this project's Xeon: SIGILL), so ``--cpu-extra-buffers auto`` keeps weights out of extra
buffers there, and gives REPACK's interleaved layouts back to the weights that suit them
(``runtime/repack.py``). This measures what each choice costs, through the app's own loader
(``load_in_process``) and backend, each mode in its own process (a crash there is a result:
its signal is recorded), the modes' order rotating over the repeats. Rates in wall time and in
CPU time of the computing thread (one llama.cpp thread), which other programs' load does not
inflate.

Models: the shipped SmolLM2 (Q4_1: nothing REPACK takes, so "repack" equals "off") and the
same model re-quantised to Q4_0 for this run (``llama_model_quantize``), whose matrices REPACK
takes.

    python bench/cpu_buffers.py [--threads 1] [--repeats 3] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, emit, machine, median, table

MODES = {"off": "off", "repack": "auto", "on": "on"}  # label -> --cpu-extra-buffers
PROMPT_WORDS = 240


def measure(path: str, setting: str, threads: int, repeats: int, data_dir: str) -> dict:
    """In this process: load as the worker does, then time prompts and decoding."""
    sys.path.insert(0, str(REPO))
    from tutor_app.runtime.loading import load_in_process
    from tutor_app.settings import Settings

    lines: list[str] = []
    backend = load_in_process(Settings(model=path, cpu_extra_buffers=setting, threads=threads, n_ctx=2048,
                                       kv_cache_mb=0, data_dir=data_dir), say=lines.append)
    prefill, decode, prefill_cpu, decode_cpu, texts = [], [], [], [], []
    for repeat in range(repeats):
        story = " ".join(f"word{repeat}-{i}" for i in range(PROMPT_WORDS))  # new each time: no reuse
        usage = []
        cpu = time.thread_time()  # with one thread llama.cpp computes on this one
        list(backend.stream_chat([{"role": "user", "content": f"Summarise: {story}"}], max_tokens=1,
                                 temperature=0, on_stats=usage.append))
        prefill_cpu.append(usage[0].evaluated_tokens / (time.thread_time() - cpu))
        prefill.append(usage[0].evaluated_tokens / usage[0].time_to_first_token_s)
        usage = []
        cpu = time.thread_time()
        texts.append("".join(backend.stream_chat([{"role": "user", "content": "Tell a story about algebra."}],
                                                 max_tokens=64, temperature=0, on_stats=usage.append)))
        decode_cpu.append(usage[0].completion_tokens / (time.thread_time() - cpu))  # its short prompt is reused
        decode.append(usage[0].decode_tokens_per_s)
    why = backend.info.detail.get("cpu_extra_buffers")
    backend.close()
    return {"prefill_tok_s": prefill, "decode_tok_s": decode, "prefill_cpu_tok_s": prefill_cpu,
            "decode_cpu_tok_s": decode_cpu, "text": texts[0], "why": why, "plan": lines}


def run_mode(path: Path, label: str, args: argparse.Namespace, data_dir: str) -> dict:
    code = (f"import sys, json; sys.path.insert(0, {str(REPO / 'bench')!r}); from cpu_buffers import measure; "
            f"print(json.dumps(measure({str(path)!r}, {MODES[label]!r}, {args.threads}, 1, {data_dir!r})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=900)
    if done.returncode != 0:
        crash = (signal.Signals(-done.returncode).name if done.returncode < 0 else f"exit {done.returncode}")
        return {"crashed": crash, "stderr_tail": done.stderr.strip().splitlines()[-3:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def q4_0_copy(source: Path, folder: Path) -> Path:
    import llama_cpp

    target = folder / (source.stem.replace("Q4_1", "") + "requantised-Q4_0.gguf")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0
    params.allow_requantize = True
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params) != 0:
        sys.exit(f"could not re-quantise {source}")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    started_on = machine()
    sys.path.insert(0, str(REPO))
    from tutor_app.runtime.cpu_features import ggml_cpu_features
    from tutor_app.runtime.default_model import default_model_path

    folder = Path(tempfile.mkdtemp(prefix="bench-cpu-buffers-"))
    models = {"SmolLM2-135M-Instruct.Q4_1": default_model_path()}
    models["SmolLM2-135M-Instruct requantised Q4_0"] = q4_0_copy(models["SmolLM2-135M-Instruct.Q4_1"], folder)
    results: dict[str, dict] = {}
    for name, path in models.items():
        runs: dict[str, list[dict]] = {label: [] for label in MODES}
        labels = list(MODES)
        for repeat in range(args.repeats):
            turn = repeat % len(labels)
            for label in labels[turn:] + labels[:turn]:
                runs[label].append(run_mode(path, label, args, str(folder / "data")))
        results[name] = {}
        for label, outcome in runs.items():
            crashed = [r["crashed"] for r in outcome if "crashed" in r]
            fine = [r for r in outcome if "crashed" not in r]
            results[name][label] = {
                "crashed": crashed[0] if crashed else None, "runs": len(outcome),
                "prefill_tok_s": round(median([r["prefill_tok_s"][0] for r in fine]), 1) if fine else None,
                "decode_tok_s": round(median([r["decode_tok_s"][0] for r in fine]), 1) if fine else None,
                "prefill_cpu_tok_s": round(median([r["prefill_cpu_tok_s"][0] for r in fine]), 1) if fine else None,
                "decode_cpu_tok_s": round(median([r["decode_cpu_tok_s"][0] for r in fine]), 1) if fine else None,
                "why": fine[0]["why"] if fine else None,
                "same_text_as_off": (fine[0]["text"] == runs["off"][0].get("text"))
                if fine and label != "off" and "text" in runs["off"][0] else None}
    result = {"benchmark": "cpu_buffers", "machine": started_on, "cpu_features": ggml_cpu_features(),
              "settings": {"threads": args.threads, "repeats": args.repeats, "prompt_words": PROMPT_WORDS,
                           "decode_tokens": 64}, "models": results}
    rows = []
    for name, modes in results.items():
        for label, r in modes.items():
            rows.append([name, label, r["crashed"] or "", r["prefill_cpu_tok_s"] or "-", r["decode_cpu_tok_s"] or "-",
                         r["prefill_tok_s"] or "-", r["decode_tok_s"] or "-"])
    emit(result, table(["model", "buffers", "crashed", "prefill (cpu)", "decode (cpu)", "prefill (wall)",
                        "decode (wall)"], rows), args.out)


if __name__ == "__main__":
    main()
