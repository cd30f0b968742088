"""LoRA adapters on a loaded llama.cpp model, switched at run time without reloading the model.

llama.cpp loads an adapter against the model (``llama_adapter_lora_init``) and applies it to a
context (``llama_set_adapters_lora``; the effective scale is ``scale * alpha / rank``, alpha
from the adapter's own metadata). The model's weights are never touched, so switching is a
pointer swap: the base stays memory-mapped (llama-cpp-python's own ``lora_path`` turns mmap off,
a leftover of the days adapters were merged in place), and "no adapter" is an empty set.

What the context computed under another adapter is stale after a switch: the KV cache and
every saved session state. The backend clears them (``LlamaCppBackend.set_adapter``).

An adapter file is loaded once per version and kept while the model lives (llama.cpp frees
them with the model), so switching back and forth costs nothing after the first time; a
replaced file (a new version at the same path) is loaded again and the old one freed.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import llama_cpp

from .adapters import adapter_version
from .protocol import ModelError


class AdapterError(ModelError):
    """An adapter cannot be loaded or applied; the message says which file and why."""


@dataclass(frozen=True)
class LoadedAdapter:
    path: Path
    version: str
    handle: object  # llama_adapter_lora_p


class LoraAdapters:
    def __init__(self, model, ctx, *, scale: float = 1.0) -> None:
        """``model``/``ctx``: the llama_model and llama_context pointers of one ``Llama``."""
        self._model = model
        self._ctx = ctx
        self.scale = scale
        self._loaded: dict[Path, LoadedAdapter] = {}
        self.active: LoadedAdapter | None = None

    def load(self, path: str | Path) -> LoadedAdapter:
        path = Path(path).resolve()
        if not path.is_file():
            raise AdapterError(f"the adapter {path} does not exist")
        version = adapter_version(path)
        known = self._loaded.get(path)
        if known is not None and known.version == version:
            return known
        handle = llama_cpp.llama_adapter_lora_init(self._model, str(path).encode("utf-8"))
        if not handle:
            raise AdapterError(f"llama.cpp cannot load {path.name} as a LoRA adapter of this model (a GGUF adapter "
                               "made for another model, or not an adapter at all; the worker's log says more)")
        if known is not None and known is not self.active:
            llama_cpp.llama_adapter_lora_free(known.handle)
        loaded = LoadedAdapter(path, version, handle)
        self._loaded[path] = loaded
        return loaded

    def apply(self, adapter: LoadedAdapter | None) -> None:
        """Make ``adapter`` the context's only adapter (None: the base model alone)."""
        if adapter is None:
            result = llama_cpp.llama_set_adapters_lora(self._ctx, None, 0, None)
        else:
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter.handle)
            scales = (ctypes.c_float * 1)(self.scale)
            result = llama_cpp.llama_set_adapters_lora(self._ctx, adapters, 1, scales)
        if result != 0:
            raise AdapterError(f"llama.cpp refused to apply {adapter.path.name if adapter else 'no adapter'} "
                               f"(error {result})")
        self.active = adapter
