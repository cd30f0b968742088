"""Saved KV states of tutoring sessions: in RAM up to a byte budget, then on disk, then gone.

One model serves a whole class, so its context holds one student's conversation at a time.
When another student's turn comes, the backend saves the current conversation's state here
and restores the next student's, so each turn evaluates only its new tokens instead of the
whole history (tens of seconds per turn for a Mixtral on a CPU).

States are opaque bytes (``llama_state_seq_get_data`` of one sequence) plus the token ids they
hold. The token ids stay in RAM even when the bytes are spilled, so the backend can decide
whether restoring pays off (how long the common prefix with the new prompt is) without reading
the disk. Least recently used states spill first; beyond the disk budget they are dropped, and
that session's next turn simply evaluates its whole prompt once again.

A state restored into the wrong conversation would make the tutor answer another student's
questions (llama-server's prompt cache did that under load, llama.cpp #27148). So each state
carries the session it belongs to and a hash of its token ids; both are written into a spill
file and checked when the state is read back, and the engine checks them again before it
restores a state into a slot.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

_MAGIC = b"TUTORKV2"


def token_hash(tokens: Sequence[int] | np.ndarray) -> str:
    """A short fingerprint of a token sequence (sha256 of its int32 ids)."""
    return hashlib.sha256(np.ascontiguousarray(tokens, dtype=np.int32).tobytes()).hexdigest()[:32]


@dataclass(frozen=True)
class SavedState:
    tokens: np.ndarray  # int32 token ids whose KV entries ``data`` holds, in order
    data: bytes
    session: str = ""  # whose conversation this is (set by the cache on the way out)
    tokens_hash: str = ""  # token_hash(tokens) when it was saved (set by the cache)

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.tokens.nbytes

    def belongs_to(self, session: str) -> bool:
        """This state is ``session``'s and its token ids are the ones it was saved with."""
        return self.session == session and self.tokens_hash == token_hash(self.tokens)


@dataclass
class _Entry:
    tokens: np.ndarray
    tokens_hash: str
    data: bytes | None  # None: spilled to ``path``
    path: Path | None
    nbytes: int


@dataclass(frozen=True)
class CacheStats:
    sessions_in_ram: int
    sessions_on_disk: int
    ram_bytes: int
    disk_bytes: int
    spills: int
    evictions: int
    disk_loads: int


class SessionStateCache:
    """LRU store of ``SavedState`` by session key. Thread-safe; files live in a private temp
    folder under ``spill_parent`` that is removed on ``close()`` (or when the cache is
    garbage-collected)."""

    def __init__(self, *, ram_budget_bytes: int, disk_budget_bytes: int, spill_parent: Path | None = None) -> None:
        self.ram_budget = max(0, int(ram_budget_bytes))
        self.disk_budget = max(0, int(disk_budget_bytes))
        self._spill_parent = Path(spill_parent) if spill_parent is not None else None
        self._dir: Path | None = None
        self._finalizer: weakref.finalize | None = None
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # oldest first
        self._lock = threading.RLock()
        self._ram = 0
        self._disk = 0
        self._spills = 0
        self._evictions = 0
        self._disk_loads = 0

    # queries ----------------------------------------------------------------------------
    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def tokens(self, key: str) -> np.ndarray | None:
        """The token ids of ``key``'s saved state, without loading its bytes from disk."""
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry.tokens

    def where(self, key: str) -> str | None:
        """"ram", "disk" or None; for tests and the model panel."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            return "ram" if entry.data is not None else "disk"

    def stats(self) -> CacheStats:
        with self._lock:
            in_ram = sum(1 for e in self._entries.values() if e.data is not None)
            return CacheStats(in_ram, len(self._entries) - in_ram, self._ram, self._disk, self._spills,
                              self._evictions, self._disk_loads)

    # updates ----------------------------------------------------------------------------
    def put(self, key: str, state: SavedState) -> None:
        tokens = np.ascontiguousarray(state.tokens, dtype=np.int32)
        with self._lock:
            self.discard(key)
            entry = _Entry(tokens=tokens, tokens_hash=token_hash(tokens), data=state.data, path=None,
                           nbytes=len(state.data) + tokens.nbytes)
            self._entries[key] = entry
            self._ram += entry.nbytes
            self._enforce_budgets()

    def get(self, key: str) -> SavedState | None:
        """The saved state, read back from disk if it was spilled; marks it most recently used.
        A spilled state read back stays on disk too (its file is still valid) until evicted."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            if entry.data is not None:
                return SavedState(entry.tokens, entry.data, key, entry.tokens_hash)
            assert entry.path is not None
            try:
                data = _read_file(entry.path, key, entry.tokens, entry.tokens_hash)
            except (OSError, ValueError):
                self.discard(key)  # a damaged or foreign file costs one full evaluation, never a crash
                return None
            self._disk_loads += 1
            return SavedState(entry.tokens, data, key, entry.tokens_hash)

    def discard(self, key: str) -> None:
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return
            self._forget(entry)

    def clear(self) -> None:
        with self._lock:
            for key in list(self._entries):
                self.discard(key)

    def close(self) -> None:
        with self._lock:
            self._entries.clear()
            self._ram = self._disk = 0
            if self._finalizer is not None:
                self._finalizer()
            self._dir = None
            self._finalizer = None

    # internals --------------------------------------------------------------------------
    def _forget(self, entry: _Entry) -> None:
        if entry.data is not None:
            self._ram -= entry.nbytes
        if entry.path is not None:
            self._disk -= entry.nbytes
            try:
                entry.path.unlink()
            except OSError:
                pass

    def _enforce_budgets(self) -> None:
        # Spill the least recently used states until RAM fits (the newest may spill too).
        for key, entry in list(self._entries.items()):
            if self._ram <= self.ram_budget:
                break
            if entry.data is None:
                continue
            if not self._spill(key, entry):
                self._entries.pop(key)
                self._ram -= entry.nbytes
                self._evictions += 1
        for key, entry in list(self._entries.items()):
            if self._disk <= self.disk_budget:
                break
            if entry.data is None:
                self._entries.pop(key)
                self._forget(entry)
                self._evictions += 1

    def _spill(self, key: str, entry: _Entry) -> bool:
        if entry.nbytes > self.disk_budget:
            return False
        folder = self._spill_dir()
        if folder is None:
            return False
        path = folder / (hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".kv")
        try:
            _write_file(path, key, entry.tokens, entry.tokens_hash, entry.data or b"")
        except OSError:
            return False
        self._ram -= entry.nbytes
        entry.data = None
        entry.path = path
        self._disk += entry.nbytes
        self._spills += 1
        return True

    def _spill_dir(self) -> Path | None:
        if self._dir is not None:
            return self._dir
        try:
            if self._spill_parent is not None:
                self._spill_parent.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix="kv-states-", dir=self._spill_parent))
        except OSError:
            return None
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._dir), True)
        return self._dir


def _write_file(path: Path, session: str, tokens: np.ndarray, tokens_hash: str, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    owner = session.encode("utf-8")
    with open(tmp, "wb") as f:
        f.write(_MAGIC)
        f.write(np.array([len(tokens), len(data), len(owner)], dtype=np.int64).tobytes())
        f.write(owner)
        f.write(tokens_hash.encode("ascii").ljust(32, b"\0"))
        f.write(tokens.tobytes())
        f.write(data)
    os.replace(tmp, path)


def _read_file(path: Path, session: str, tokens: np.ndarray, tokens_hash: str) -> bytes:
    with open(path, "rb") as f:
        if f.read(len(_MAGIC)) != _MAGIC:
            raise ValueError(f"{path}: not a saved KV state")
        n_tokens, n_data, n_owner = np.frombuffer(f.read(24), dtype=np.int64)
        if f.read(int(n_owner)).decode("utf-8", errors="replace") != session:
            raise ValueError(f"{path}: the state of another session")
        if f.read(32).rstrip(b"\0").decode("ascii", errors="replace") != tokens_hash:
            raise ValueError(f"{path}: saved tokens do not match")
        stored = np.frombuffer(f.read(int(n_tokens) * 4), dtype=np.int32)
        if not np.array_equal(stored, tokens) or token_hash(stored) != tokens_hash:
            raise ValueError(f"{path}: saved tokens do not match")
        data = f.read(int(n_data))
        if len(data) != int(n_data):
            raise ValueError(f"{path}: truncated")
        return data


def common_prefix_length(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> int:
    """Length of the longest common prefix of two token sequences (vectorised: prompts are long)."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.nonzero(np.asarray(a[:n], dtype=np.int64) != np.asarray(b[:n], dtype=np.int64))[0]
    return int(diff[0]) if diff.size else n
