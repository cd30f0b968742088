"""The store of saved session KV states: RAM budget, LRU spill to disk, disk bound, damage."""

from __future__ import annotations

import numpy as np
import pytest

from tutor_app.runtime.kv_cache import SavedState, SessionStateCache, common_prefix_length


def state(n_tokens: int, n_bytes: int, seed: int = 0) -> SavedState:
    rng = np.random.default_rng(seed)
    return SavedState(np.arange(n_tokens, dtype=np.int32) + seed, rng.bytes(n_bytes))


@pytest.fixture
def cache(tmp_path):
    c = SessionStateCache(ram_budget_bytes=2500, disk_budget_bytes=5000, spill_parent=tmp_path / "kv")
    yield c
    c.close()


def test_round_trip_in_ram(cache):
    s = state(10, 1000)
    cache.put("a", s)
    got = cache.get("a")
    assert got.data == s.data and np.array_equal(got.tokens, s.tokens)
    assert cache.where("a") == "ram" and cache.stats().ram_bytes == 1040


def test_least_recently_used_spills_to_disk_and_reads_back(cache, tmp_path):
    a, b, c = state(10, 1000, 1), state(10, 1000, 2), state(10, 1000, 3)
    cache.put("a", a)
    cache.put("b", b)
    cache.get("a")  # a is now more recent than b
    cache.put("c", c)
    assert cache.where("b") == "disk" and cache.where("a") == "ram" and cache.where("c") == "ram"
    assert list((tmp_path / "kv").glob("*/*.kv"))
    assert np.array_equal(cache.tokens("b"), b.tokens)  # known without reading the disk
    got = cache.get("b")
    assert got.data == b.data and cache.stats().disk_loads == 1


def test_disk_bound_evicts_oldest(cache):
    for i in range(8):
        cache.put(f"s{i}", state(10, 1000, i))
    stats = cache.stats()
    assert stats.ram_bytes <= 2500 and stats.disk_bytes <= 5000
    assert stats.evictions > 0
    assert "s0" not in cache and "s7" in cache
    assert cache.get("s0") is None


def test_state_larger_than_everything_is_not_kept(tmp_path):
    cache = SessionStateCache(ram_budget_bytes=100, disk_budget_bytes=100, spill_parent=tmp_path)
    cache.put("big", state(10, 1000))
    assert "big" not in cache and cache.stats().ram_bytes == 0
    cache.close()


def test_replacing_a_state_frees_its_old_bytes(cache):
    cache.put("a", state(10, 1000))
    cache.put("a", state(20, 500))
    assert len(cache) == 1 and cache.stats().ram_bytes == 580


def test_damaged_spill_file_costs_a_reevaluation_not_a_crash(cache, tmp_path):
    cache.put("a", state(10, 2000, 1))
    cache.put("b", state(10, 2000, 2))  # spills a
    assert cache.where("a") == "disk"
    for f in (tmp_path / "kv").glob("*/*.kv"):
        f.write_bytes(b"garbage")
    assert cache.get("a") is None and "a" not in cache


def test_close_removes_the_spill_folder(tmp_path):
    cache = SessionStateCache(ram_budget_bytes=0, disk_budget_bytes=10_000, spill_parent=tmp_path / "kv")
    cache.put("a", state(10, 100))
    assert cache.where("a") == "disk"
    folders = list((tmp_path / "kv").iterdir())
    assert folders
    cache.close()
    assert not any(f.exists() for f in folders)


@pytest.mark.parametrize("a, b, expected", [
    ([], [1, 2], 0), ([1, 2, 3], [1, 2, 3], 3), ([1, 2, 3], [1, 2], 2), ([1, 9, 3], [1, 2, 3], 1), ([5], [6], 0),
])
def test_common_prefix_length(a, b, expected):
    assert common_prefix_length(a, b) == expected
    assert common_prefix_length(np.array(a, dtype=np.int32), b) == expected
