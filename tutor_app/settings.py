"""Every setting of the app, declared once: flags, ``TUTOR_*`` variables and defaults come from here.

The app factory takes a ``Settings`` so tests swap in ``sqlite://``, a temporary curricula
folder and the scripted model without touching the environment (microblog's ``create_app``).
The command line generates one flag per field (``--db-url`` for ``db_url``), with the field's
description as its help, so a setting can never exist in one list and not another.
Precedence: command-line flag > environment variable (``TUTOR_DB_URL``...) > default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Union

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APP_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUTOR_", extra="ignore")

    # where things are
    curricula: Path = Field(APP_DIR / "curricula", description="the folder of curriculum and rubric YAML files "
                                                                "(any depth)")
    data_dir: Path = Field(APP_DIR / "data", description="where the database, worksheets and grades are written")
    models_dir: Path = Field(APP_DIR / "models", description="where downloaded GGUF models are kept")
    db_url: str | None = Field(None, description="any SQLAlchemy URL (default: sqlite:///DATA_DIR/tutor.sqlite3)")
    evals: Path | None = Field(None, description="the folder of evaluation suites (kind: eval-suite) that check "
                                                 "validates (default: evals/ beside the curricula folder)")

    # web server
    host: str = Field("127.0.0.1", description="address to listen on; beyond loopback, everyone signs in")
    port: int = Field(7860, description="port to listen on")
    require_login: bool = Field(False, description="sign-in even on loopback")
    sign_in_hours: float = Field(8.0, gt=0, description="how long a sign-in lasts before the person signs in again")
    upload_mb: int = Field(20, gt=0, description="the largest file the teacher may upload (batch grading), in MB")
    grade_seconds: float = Field(120.0, gt=0, description="the most time the model may spend grading one text "
                                                          "for /grade_submission")

    # model
    backend: Literal["llama", "openai", "fake", "none"] = Field("llama", description="where the model runs")
    model: str | None = Field(None, description="llama: a GGUF path or registry name (default: the shipped SmolLM2); "
                                                "openai: the served model's name")
    base_url: str | None = Field(None, description="the OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    api_key: str | None = Field(None, description="the OpenAI-compatible server's key, when it wants one")
    n_gpu_layers: Union[Literal["auto"], int] = Field("auto", description="layers on the GPU: auto or a number")
    n_ctx: int | None = Field(None, description="context size (default: chosen by the offload planner)")
    threads: int | None = Field(None, description="CPU threads (default: half the CPU's threads)")
    flash_attn: bool = Field(False, description="use llama.cpp's flash attention")
    kv_type: Literal["auto", "f16", "q8_0", "q4_0"] = Field("auto", description="KV-cache type")
    lora: Path | None = Field(None, description="a GGUF LoRA adapter to apply to the model (the school's fine-tune)")
    moe_offload: Literal["auto", "layers", "experts-cpu"] = Field("auto", description="how a mixture of experts is "
                                                                                    "split between GPU and CPU")
    kv_cache_mb: int = Field(1024, ge=0, description="RAM for saved per-session KV states before they spill to disk")
    cpu_extra_buffers: Literal["auto", "on", "off"] = Field(
        "auto", description="llama.cpp's repacked CPU weight buffers; auto keeps weights out of AMX's, which crash "
                            "on some CPUs")

    # model calls (issue 16): a server that hangs must not make students wait minutes
    model_connect_timeout_s: float = Field(3.0, gt=0, description="seconds to connect to the model worker or server")
    model_first_token_timeout_s: float = Field(30.0, gt=0, description="a student's model call: seconds until the "
                                                                       "reply starts (a decision: until it arrives)")
    model_total_timeout_s: float = Field(120.0, gt=0, description="a student's model call: seconds for the whole "
                                                                  "reply")
    model_batch_timeout_s: float = Field(600.0, gt=0, description="batch work (grading a class set): seconds to the "
                                                                  "first piece and for the whole reply")
    model_failures_to_open: int = Field(2, ge=1, description="model failures in a row after which model features "
                                                             "say 'the tutor is unavailable' at once")
    parallel: int | None = Field(None, ge=1, description="model calls served at once (default: as many slots as "
                                                         "memory holds, up to 8; 4 for --backend openai)")
    worker_nice: int = Field(10, ge=0, le=19, description="how much lower the model worker's CPU priority is than "
                                                       "the app's (0: the same), so answer checks and hints are "
                                                       "answered first while the model decodes")
    min_tokens_per_s: float = Field(5.0, gt=0, description="the slowest decoding worth recommending: download auto "
                                                           "and list-models recommend only models expected to reach "
                                                           "it on this machine (tokens/s)")

    @field_validator("n_gpu_layers", mode="before")
    @classmethod
    def _parse_layers(cls, value):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        return value

    @property
    def database_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'tutor.sqlite3'}"

    @property
    def evals_dir(self) -> Path:
        return self.evals or Path(self.curricula).parent / "evals"

    @property
    def listens_beyond_loopback(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")

    @property
    def login_required(self) -> bool:
        return self.require_login or self.listens_beyond_loopback
