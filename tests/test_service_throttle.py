"""The sign-in's limits as plain logic with a clock the test moves: per address, per name and
address, per name across addresses; and the counters' bound."""

from __future__ import annotations

from tutor_app.service.throttle import (ADDRESS_BURST, ADDRESS_PER_MINUTE, LOCKOUT_S, MAX_FAILURES, NAME_ALARM,
                                        NAME_WINDOW_S, SignInThrottle)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: SignInThrottle, key: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        assert throttle.admit(key, address) is None
        throttle.record(key, address, success=False)


def test_wrong_secrets_lock_the_name_from_that_address_only_and_for_a_while():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    fail(throttle, "teacher", "10.0.0.9", MAX_FAILURES)
    refused = throttle.admit("teacher", "10.0.0.9")
    assert refused is not None and "from this computer" in refused.message and refused.retry_after_s == LOCKOUT_S
    assert throttle.admit("teacher", "10.0.0.1") is None  # the teacher's own computer
    clock.now += LOCKOUT_S + 1
    assert throttle.admit("teacher", "10.0.0.9") is None  # a new round


def test_a_name_under_attack_gives_failed_addresses_no_more_tries_and_new_ones_one():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    addresses = [f"10.1.0.{n}" for n in range(NAME_ALARM // MAX_FAILURES)]
    for address in addresses:
        fail(throttle, "ana", address, MAX_FAILURES)
    clock.now += LOCKOUT_S + 1  # every per-address lockout has run out ...
    assert throttle.admit("ana", addresses[0]) is not None  # ... but the name is under attack
    fail(throttle, "ana", "10.2.0.1")  # a new computer: one try
    assert throttle.admit("ana", "10.2.0.1") is not None
    assert throttle.admit("ana", "10.3.0.1") is None  # one that never failed is always checked
    throttle.record("ana", "10.3.0.1", success=True)
    clock.now += NAME_WINDOW_S + 1
    assert throttle.admit("ana", addresses[0]) is None  # the window passed


def test_an_address_gets_a_burst_of_tries_then_a_steady_rate_and_successes_are_given_back():
    clock = Clock()
    throttle = SignInThrottle(clock=clock)
    for n in range(ADDRESS_BURST):
        assert throttle.admit(f"name {n}", "10.0.0.5") is None
        throttle.record(f"name {n}", "10.0.0.5", success=n % 2 == 0)
    assert throttle.admit("one more", "10.0.0.5") is None  # half were right, so half came back ...
    for n in range(ADDRESS_BURST // 2 - 1):
        throttle.admit(f"again {n}", "10.0.0.5")
    refused = throttle.admit("too many", "10.0.0.5")
    assert refused is not None and "from this computer" in refused.message and refused.retry_after_s >= 1
    clock.now += 60.0 / ADDRESS_PER_MINUTE
    assert throttle.admit("later", "10.0.0.5") is None


def test_the_counters_stay_within_their_bound_whatever_is_sent():
    throttle = SignInThrottle(clock=Clock(), max_entries=25)
    for n in range(500):
        throttle.admit(f"made-up {n}", f"10.9.{n // 250}.{n % 250}")
        throttle.record(f"made-up {n}", f"10.9.{n // 250}.{n % 250}", success=False)
    assert all(size <= 25 for size in throttle.sizes().values()), throttle.sizes()
