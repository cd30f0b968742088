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

    # web server
    host: str = Field("127.0.0.1", description="address to listen on; beyond loopback, everyone signs in")
    port: int = Field(7860, description="port to listen on")
    require_login: bool = Field(False, description="sign-in even on loopback")

    # model
    backend: Literal["llama", "openai", "fake", "none"] = Field("llama", description="where the model runs")
    model: str | None = Field(None, description="llama: a GGUF path or registry name (default: the shipped SmolLM2); "
                                                "openai: the served model's name")
    base_url: str | None = Field(None, description="the OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
    api_key: str | None = Field(None, description="the OpenAI-compatible server's key, when it wants one")
    n_gpu_layers: Union[Literal["auto"], int] = Field("auto", description="layers on the GPU: auto or a number")
    n_ctx: int | None = Field(None, description="context size (default: chosen by the offload planner)")
    threads: int | None = Field(None, description="CPU threads (default: all cores)")
    flash_attn: bool = Field(False, description="use llama.cpp's flash attention")
    kv_type: Literal["auto", "f16", "q8_0", "q4_0"] = Field("auto", description="KV-cache type")
    lora: Path | None = Field(None, description="a GGUF LoRA adapter to apply to the model (the school's fine-tune)")
    moe_offload: Literal["auto", "layers", "experts-cpu"] = Field("auto", description="how a mixture of experts is "
                                                                                    "split between GPU and CPU")
    kv_cache_mb: int = Field(1024, ge=0, description="RAM for saved per-session KV states before they spill to disk")
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
    def listens_beyond_loopback(self) -> bool:
        return self.host not in ("127.0.0.1", "localhost", "::1")

    @property
    def login_required(self) -> bool:
        return self.require_login or self.listens_beyond_loopback
