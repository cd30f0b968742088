"""Which CPU weight buffers a model gets (--cpu-extra-buffers), and REPACK without AMX."""

from __future__ import annotations

import re

import pytest

from tutor_app.runtime import cpu_features
from tutor_app.runtime.cpu_features import choose_extra_buffers
from tutor_app.runtime.loading import LoadPlan, cpu_buffers_for
from tutor_app.runtime.repack import TensorFacts, choose_repack, name_patterns
from tutor_app.settings import Settings

XEON = {"AVX2": True, "AVX512": True, "AMX_INT8": True, "REPACK": True}
EPYC = {"AVX2": True, "AVX512": True, "REPACK": True}


def test_auto_keeps_amx_out_but_offers_repack_where_avx2_runs_it():
    choice = choose_extra_buffers("auto", XEON)
    assert not choice.use and choice.repack_by_override and "AMX_INT8" in choice.why
    assert not choose_extra_buffers("auto", {"AMX_INT8": True, "REPACK": True}).repack_by_override  # no AVX2
    plain = choose_extra_buffers("auto", EPYC)
    assert plain.use and not plain.repack_by_override and "REPACK" in plain.why
    assert choose_extra_buffers("on", XEON).use and "--cpu-extra-buffers on" in choose_extra_buffers("on", XEON).why
    assert not choose_extra_buffers("off", EPYC).use


def test_the_setting_is_a_flag_and_a_variable(monkeypatch):
    from tutor_app.cli.parser import build_parser, settings_from_args

    assert settings_from_args(build_parser().parse_args(["--cpu-extra-buffers", "on"])).cpu_extra_buffers == "on"
    monkeypatch.setenv("TUTOR_CPU_EXTRA_BUFFERS", "off")
    assert Settings().cpu_extra_buffers == "off"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--cpu-extra-buffers", "amx"])


TENSORS = [
    TensorFacts("token_embd.weight", "Q8_0", (576, 49152)),
    TensorFacts("blk.0.attn_norm.weight", "F32", (576,)),  # 1-D: segfaults in CPU_REPACK
    TensorFacts("blk.0.attn_q.weight", "Q4_0", (576, 576)),
    TensorFacts("blk.1.attn_q.weight", "Q4_0", (576, 576)),
    TensorFacts("blk.0.attn_k.weight", "Q4_1", (576, 192)),  # no REPACK layout for q4_1: segfaults
    TensorFacts("blk.0.ffn_down.weight", "Q4_K", (1536, 576)),
    TensorFacts("blk.1.ffn_down.weight", "Q6_K", (1536, 576)),
    TensorFacts("blk.0.attn_v.weight", "Q4_0", (576, 190)),  # rows not a multiple of 8
    TensorFacts("blk.0.ffn_up_exps.weight", "Q4_0", (576, 1536, 8)),  # experts: left alone
    TensorFacts("output.weight", "Q4_0", (576, 49152)),
]


def test_only_matrices_repack_has_a_layout_for_are_chosen():
    choice = choose_repack(TENSORS)
    chosen = {t.name for t in TENSORS if any(re.search(o.pattern, t.name) for o in choice.overrides)}
    assert chosen == {"blk.0.attn_q.weight", "blk.1.attn_q.weight", "blk.0.ffn_down.weight", "output.weight"}
    assert all(o.device == "CPU_REPACK" for o in choice.overrides)
    assert choice.tensors == 4 and "REPACK kept for 4 Q4_0/Q4_K weight matrices" == choice.why


def test_patterns_are_one_per_kind_and_match_exactly():
    names = [f"blk.{i}.attn_q.weight" for i in range(12)] + ["blk.3.ffn_up.weight", "output.weight"]
    patterns = name_patterns(names)
    assert len(patterns) == 3
    assert not any(re.search(p, "blk.1.attn_q.weight.lora_a") for p in patterns)
    assert not any(re.search(p, "blk.13.attn_q.weight") for p in patterns)
    assert all(any(re.search(p, n) for p in patterns) for n in names)


def test_a_model_repack_cannot_take_says_so():
    q4_1 = [TensorFacts("blk.0.attn_q.weight", "Q4_1", (576, 576))]
    choice = choose_repack(q4_1)
    assert not choice.overrides and "no weights REPACK suits (Q4_1" in choice.why


def test_repack_overrides_only_for_plans_on_the_cpu(monkeypatch, smollm2_path):
    monkeypatch.setattr(cpu_features, "ggml_cpu_features", lambda: XEON)
    settings = Settings(model=str(smollm2_path))
    why, hook = cpu_buffers_for(settings, smollm2_path, LoadPlan(n_gpu_layers=0))
    assert "AMX_INT8" in why and "no weights REPACK suits" in why and hook is None  # the default is Q4_1
    gpu_plan = LoadPlan(n_gpu_layers=12)
    why, hook = cpu_buffers_for(settings, smollm2_path, gpu_plan)
    assert "REPACK" not in why.split(";")[-1] and hook is None  # an override to the CPU would undo the GPU plan
    why, _ = cpu_buffers_for(Settings(model=str(smollm2_path), cpu_extra_buffers="off"), smollm2_path,
                             LoadPlan(n_gpu_layers=0))
    assert why == "CPU extra buffers off (--cpu-extra-buffers off)"


@pytest.mark.model
def test_a_q4_0_model_decodes_with_repack_and_without_amx(tmp_path, smollm2_path, capfd):
    """Where the CPU has AVX2 and REPACK: the re-quantised model's matrices go to CPU_REPACK, no
    weight to AMX, and it decodes (AMX crashes on decode on this project's Xeon). Its greedy text
    may differ from plain buffers' (REPACK's matrix kernels sum in another order), so each is
    only required to be a reply."""
    import llama_cpp

    from tutor_app.runtime.loading import load_in_process

    features = cpu_features.ggml_cpu_features()
    if not (features.get("AVX2") and features.get("REPACK")):
        pytest.fail("this x86 test machine's llama.cpp has no AVX2 REPACK layouts")  # never skipped silently
    q4_0 = tmp_path / "smollm2-q4_0.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0, True
    assert llama_cpp.llama_model_quantize(str(smollm2_path).encode(), str(q4_0).encode(), params) == 0
    question = [{"role": "user", "content": "What is 2 + 2?"}]
    texts = {}
    for setting in ("off", "auto"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(cpu_features, "ggml_cpu_features", lambda: {**features, "AMX_INT8": True})
            backend = load_in_process(Settings(model=str(q4_0), cpu_extra_buffers=setting, n_ctx=512, kv_cache_mb=0,
                                               data_dir=tmp_path / "data"), verbose=True)
        try:
            texts[setting] = "".join(backend.stream_chat(question, max_tokens=12, temperature=0))
            why = backend.info.detail["cpu_extra_buffers"]
        finally:
            backend.close()
        log = capfd.readouterr().err
        if setting == "auto":
            assert re.search(r"REPACK kept for \d+ Q4_0 weight matrices", why)
            assert "CPU_REPACK model buffer size" in log and "AMX model buffer" not in log
        else:
            assert "CPU_REPACK model buffer size" not in log
    assert texts["auto"].strip() and texts["off"].strip()
