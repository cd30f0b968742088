"""Every setting of the app in one validated object: flags, ``TUTOR_*`` variables, defaults.

The app factory takes a ``Settings`` so tests swap in ``sqlite://``, a temporary curricula
folder and the scripted model without touching the environment (microblog's ``create_app``).
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
    curricula: Path = APP_DIR / "curricula"
    data_dir: Path = APP_DIR / "data"
    models_dir: Path = APP_DIR / "models"
    db_url: str | None = None  # default: sqlite file in data_dir

    # web server
    host: str = "127.0.0.1"
    port: int = 7860
    require_login: bool = False

    # model
    backend: Literal["llama", "openai", "fake", "none"] = "llama"
    model: str | None = None  # llama: GGUF path or registry name; openai: the served model's name
    base_url: str | None = None  # openai backend
    api_key: str | None = None  # openai backend, when the server wants one
    n_gpu_layers: Union[Literal["auto"], int] = "auto"
    n_ctx: int | None = None  # None: chosen by the offload planner
    threads: int | None = None
    flash_attn: bool = False
    kv_type: Literal["auto", "f16", "q8_0", "q4_0"] = "auto"
    lora: Path | None = None
    moe_offload: Literal["auto", "layers", "experts-cpu"] = "auto"
    kv_cache_mb: int = Field(1024, ge=0)  # RAM for saved per-session KV states before spilling to disk

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
