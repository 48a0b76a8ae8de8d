"""Password guessing is slowed per key; time is the test's to move."""

from __future__ import annotations

import datetime as dt

from taxi_core.throttle import LoginThrottle, Policy

POLICY = Policy(3, dt.timedelta(seconds=1), dt.timedelta(seconds=8), dt.timedelta(minutes=15))


def fail(throttle, key, times):
    for _ in range(times):
        throttle.failed(key)


def test_a_key_is_not_locked_while_it_has_free_failures_left(clock):
    throttle = LoginThrottle(POLICY, clock)
    fail(throttle, "ada", 3)
    assert not throttle.is_locked("ada")


def test_one_failure_past_the_free_ones_locks_the_key_for_the_first_lock(clock):
    throttle = LoginThrottle(POLICY, clock)
    fail(throttle, "ada", 4)
    assert throttle.is_locked("ada")
    clock.advance(0.9)
    assert throttle.is_locked("ada")
    clock.advance(0.2)
    assert not throttle.is_locked("ada")


def test_each_further_failure_doubles_the_lock_up_to_the_longest(clock):
    throttle = LoginThrottle(POLICY, clock)
    locks = []
    for _ in range(8):
        fail(throttle, "ada", 1)
        seconds = 0
        while throttle.is_locked("ada"):
            clock.advance(0.5)
            seconds += 0.5
        locks.append(seconds)
    assert locks == [0, 0, 0, 1, 2, 4, 8, 8]


def test_other_keys_are_not_affected(clock):
    throttle = LoginThrottle(POLICY, clock)
    fail(throttle, "ada", 10)
    assert throttle.is_locked("ada") and not throttle.is_locked("bob")


def test_a_success_clears_the_account(clock):
    throttle = LoginThrottle(POLICY, clock)
    fail(throttle, "ada", 3)
    throttle.succeeded("ada")
    fail(throttle, "ada", 3)
    assert not throttle.is_locked("ada")


def test_failures_long_ago_are_forgotten(clock):
    throttle = LoginThrottle(POLICY, clock)
    fail(throttle, "ada", 3)
    clock.advance(16 * 60)
    fail(throttle, "ada", 1)
    assert not throttle.is_locked("ada")


def test_a_huge_number_of_failures_keeps_the_longest_lock(clock):
    throttle = LoginThrottle(POLICY, clock)
    fail(throttle, "ada", 10_000)
    clock.advance(7.9)
    assert throttle.is_locked("ada")
    clock.advance(0.2)
    assert not throttle.is_locked("ada")
