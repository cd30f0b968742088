"""``--backend llama``: the model in its own worker process, behind the usual backend protocol.

The rest of the app sees a ``ModelBackend`` as before; underneath, each call is an HTTP call to
the worker (``worker_server.py``) made by the same client that talks to external servers
(``OpenAICompatibleBackend``, with the worker's extension fields and its token), so timeouts,
the circuit breaker and per-call usage behave alike. The supervisor (``supervisor.py``) keeps a
worker running; each start has a new port and token, so the client is rebuilt when one is ready.

While no worker is ready, model calls fail fast with the supervisor's reason (a student's call
waits at most the connect limit for a worker about to be ready; batch work waits longer).
A call cut off because the worker died raises ``ModelCrashed``: the tutor chat tells the
student the tutor restarted and to ask again, and keeps what was already shown.

Token counts (the app fits prompts into the context with them) come from the worker's
``/tokenize`` and are cached here: a conversation's earlier messages are counted every turn.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..settings import Settings
from .breaker import CircuitBreaker
from .openai_backend import CallTimeouts, ConnectionLost, OpenAICompatibleBackend
from .protocol import (GenerationStats, Message, ModelCrashed, ModelError, ModelInfo, ModelUnavailable, Priority,
                       StatsCallback, T)
from .supervisor import Supervisor, WorkerRun, how_it_ended

log = logging.getLogger(__name__)

INFO_REFRESH_S = 5.0  # the model panel's KV-state figures may be this old
CRASH_SEEN_WITHIN_S = 3.0  # after a broken reply, how long to wait for the supervisor to see the exit


class WorkerBackend:
    def __init__(self, supervisor: Supervisor, *, timeouts: CallTimeouts = CallTimeouts(),
                 failures_to_open: int = 2, name: str = "") -> None:
        self.supervisor = supervisor
        self.timeouts = timeouts
        self.name = name
        self._remote: OpenAICompatibleBackend | None = None
        self._run: WorkerRun | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._stats: GenerationStats | None = None
        self._info: ModelInfo | None = None
        self._info_at = 0.0
        self.breaker = CircuitBreaker(self._probe, failures_to_open=failures_to_open, what="the model worker")
        self._count_cached = functools.lru_cache(maxsize=8192)(self._count_remote)
        # The adapter the teacher switched to while the app runs (None: the base model); a
        # restarted worker loads --lora again, so it gets this one back before serving.
        self._adapter: tuple[Path | None] | None = None
        supervisor.on_ready = self._connect

    @classmethod
    def start(cls, settings: Settings, *, name: str = "", **supervisor_options: Any) -> "WorkerBackend":
        """Start the worker in the background and return at once: the app listens meanwhile.
        ``name``: the model's, to show until the worker reports its own."""
        from .loading import say_on_stderr

        supervisor = Supervisor(settings, say=say_on_stderr, **supervisor_options)
        backend = cls(supervisor, timeouts=CallTimeouts.from_settings(settings),
                      failures_to_open=settings.model_failures_to_open, name=name or settings.model or "")
        supervisor.start()
        return backend

    def wait_ready(self, timeout_s: float | None = None) -> bool:
        """True once a worker serves the model; False when it will not (or not within ``timeout_s``)."""
        return self.supervisor.wait_settled(timeout_s) == "ready" and self._ready.is_set()

    # protocol ---------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        worker = self.supervisor.summary()
        remote = self._remote
        if self.supervisor.status != "ready" or remote is None:
            problem = self.supervisor.problem or "the model worker is not running"
            settled = self.supervisor.status in ("gave up", "unavailable", "stopped")
            base = self._info
            return ModelInfo(name=base.name if base else (self.name or "default model"),
                             backend="unavailable" if settled else "llama.cpp", available=False,
                             path=base.path if base else None, n_ctx=base.n_ctx if base else 0,
                             offload_plan=base.offload_plan if base else "", problem=problem,
                             detail={**(base.detail if base else {}), "worker": worker},
                             adapter=base.adapter if base else None)
        info = self._fresh_info(remote)
        return ModelInfo(name=info.name, backend=info.backend, available=not self.breaker.is_open, path=info.path,
                         n_ctx=info.n_ctx, offload_plan=info.offload_plan, problem=self.breaker.problem,
                         detail={**info.detail, "worker": worker}, adapter=info.adapter)

    @property
    def last_stats(self) -> GenerationStats | None:
        return self._stats

    def count_tokens(self, text: str) -> int:
        if not text:
            return 0
        try:
            return self._count_cached(text)
        except ModelError:
            return max(1, len(text) // 4)  # no worker now: a rough count keeps prompt budgeting going

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.7,
                    stop: Sequence[str] = (), session_key: str | None = None,
                    cancel: threading.Event | None = None, priority: Priority = "interactive",
                    on_stats: StatsCallback | None = None) -> Iterator[str]:
        remote, run = self._wait_for_worker(priority)
        try:
            yield from remote.stream_chat(messages, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                          session_key=session_key, cancel=cancel, priority=priority,
                                          on_stats=self._keeping(on_stats))
        except ModelError as exc:
            raise self._crash_or(exc, run) from exc

    def generate_json(self, messages: Sequence[Message], schema: type[T], *, max_tokens: int = 512,
                      temperature: float = 0.0, session_key: str | None = None, priority: Priority = "interactive",
                      on_stats: StatsCallback | None = None) -> T:
        remote, run = self._wait_for_worker(priority)
        try:
            return remote.generate_json(messages, schema, max_tokens=max_tokens, temperature=temperature,
                                        session_key=session_key, priority=priority, on_stats=self._keeping(on_stats))
        except ModelError as exc:
            raise self._crash_or(exc, run) from exc

    def set_adapter(self, path: Path | None) -> ModelInfo:
        """Switch the worker's LoRA adapter (``LlamaCppBackend.set_adapter``: between calls)."""
        remote, _ = self._wait_for_worker("interactive")
        data = remote.request_json("/v1/adapter", {"path": str(path) if path is not None else None},
                                   timeout_s=self.timeouts.batch_s)
        self._adapter = (Path(path) if path is not None else None,)
        with self._lock:
            self._info, self._info_at = _model_info(data), time.monotonic()
        return self.info

    def close(self) -> None:
        self.breaker.close()
        self.supervisor.stop()
        remote = self._remote
        if remote is not None:
            remote.close()

    # internals --------------------------------------------------------------------------
    def _connect(self, run: WorkerRun) -> None:
        """A worker is ready: talk to it from now on (called by the supervisor's thread)."""
        remote = OpenAICompatibleBackend(run.base_url, (run.info or {}).get("name"), run.token,
                                         timeouts=self.timeouts, json_mode="json_schema", breaker=self.breaker,
                                         extensions=True, where="the model worker",
                                         connect_hint="it is restarting; ask again in a moment",
                                         parallel=_slots(run.info or {}))
        info = run.info or {}
        if self._adapter is not None:
            info = self._restore_adapter(remote, info)
        with self._lock:
            old, self._remote, self._run = self._remote, remote, run
            self._info, self._info_at = _model_info(info), time.monotonic()
            self._ready.set()
        if old is not None:
            old.close()

    def _restore_adapter(self, remote: OpenAICompatibleBackend, info: dict) -> dict:
        """Give a restarted worker the adapter the teacher chose, before any call reaches it."""
        (path,) = self._adapter
        try:
            return remote.request_json("/v1/adapter", {"path": str(path) if path is not None else None},
                                       timeout_s=self.timeouts.batch_s)
        except ModelError:
            log.warning("the restarted model worker could not load the adapter %s; it serves %s", path,
                        info.get("adapter") or "the base model", exc_info=True)
            return info

    def _wait_for_worker(self, priority: Priority) -> tuple[OpenAICompatibleBackend, WorkerRun]:
        """The client of the ready worker, waiting a little for one that is starting; otherwise
        fail at once with the reason (the worker gave up, the model cannot load...)."""
        self.breaker.check()
        wait_s = self.timeouts.batch_s if priority == "batch" else self.timeouts.connect_s
        status = self.supervisor.status
        if status in ("starting", "restarting"):
            status = self.supervisor.wait_settled(wait_s)
        with self._lock:
            remote, run = self._remote, self._run
        if status != "ready" or remote is None or run is None:
            raise ModelUnavailable(self.supervisor.problem or "the model worker is not running")
        return remote, run

    def _crash_or(self, exc: ModelError, run: WorkerRun) -> ModelError:
        """``ModelCrashed`` when the call broke because its worker died, else ``exc`` itself. Only a
        lost connection waits (briefly) for the supervisor to see the exit; a timeout does not."""
        if isinstance(exc, ConnectionLost) and run.exited.wait(CRASH_SEEN_WITHIN_S):
            how = how_it_ended(run.process.returncode)  # the supervisor may not have recorded it yet
            return ModelCrashed(f"the model worker {how} during this call and is being restarted")
        return exc

    def _keeping(self, on_stats: StatsCallback | None) -> StatsCallback:
        def keep(stats: GenerationStats) -> None:
            self._stats = stats
            if on_stats is not None:
                on_stats(stats)
        return keep

    def _count_remote(self, text: str) -> int:
        remote, _ = self._wait_for_worker("interactive")
        return int(remote.request_json("/tokenize", {"content": text}).get("count", 0))

    def _fresh_info(self, remote: OpenAICompatibleBackend) -> ModelInfo:
        """The worker's ``ModelInfo``, re-read at most every ``INFO_REFRESH_S`` (KV-state figures)."""
        if time.monotonic() - self._info_at > INFO_REFRESH_S:
            self._info_at = time.monotonic()
            try:
                self._info = _model_info(remote.request_json("/v1/info", timeout_s=self.timeouts.connect_s))
            except ModelError:
                pass  # the last figures stand; the call paths report the trouble
        return self._info or ModelInfo(name=self.name or "default model", backend="llama.cpp")

    def _probe(self) -> str | None:
        """For the breaker: the ready worker answers ``/health``."""
        remote = self._remote
        if self.supervisor.status != "ready" or remote is None:
            return self.supervisor.problem or "the model worker is not running"
        try:
            remote.request_json("/health", timeout_s=self.timeouts.connect_s)
        except ModelError as exc:
            return str(exc)
        return None


def _model_info(data: dict) -> ModelInfo:
    fields = {k: data[k] for k in ("name", "backend", "available", "path", "n_ctx", "offload_plan", "detail",
                                   "problem", "adapter") if k in data}
    fields.setdefault("name", "default model")
    fields.setdefault("backend", "llama.cpp")
    return ModelInfo(**fields)


def _slots(info: dict) -> int:
    """The worker's batched slots: as many requests go to it at once as it decodes together."""
    try:
        return max(1, int((info.get("detail") or {}).get("parallel") or 1))
    except (TypeError, ValueError):
        return 1
