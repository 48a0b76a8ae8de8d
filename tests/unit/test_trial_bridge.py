"""The base of the trial-style tests (tests/support/trial.py) leans on internals of trial and of
pytest-twisted: checked here, by name and by running both runners on a small suite, so that an
upgrade that moves them fails at once rather than hanging or killing other tests' connections."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest_twisted
from twisted.trial import unittest, util

ROOT = Path(__file__).resolve().parents[2]

MIXED = '''
import unittest

import pytest_twisted
from twisted.internet import protocol, reactor, task

from tests.support import trial

kept = {}


@pytest_twisted.ensureDeferred
async def test_a_pytest_twisted_test_leaves_a_port_and_a_timer_for_later():
    kept["port"] = reactor.listenTCP(0, protocol.Factory(), interface="127.0.0.1")
    kept["timer"] = reactor.callLater(60, lambda: None)


class Trial(trial.TestCase):
    async def test_passes(self):
        await task.deferLater(reactor, 0.01, lambda: None)

    async def test_fails(self):
        await task.deferLater(reactor, 0.01, lambda: None)
        self.assertEqual(1, 2)

    def test_is_skipped(self):
        raise unittest.SkipTest("on purpose")


@pytest_twisted.ensureDeferred
async def test_what_the_pytest_twisted_test_left_is_still_there():
    assert kept["timer"].active()
    assert kept["port"] in reactor.getReaders()
    kept["timer"].cancel()
    await kept["port"].stopListening()
'''

DIRTY = '''
from twisted.internet import reactor, task

from tests.support import trial


class Trial(trial.TestCase):
    async def test_clean(self):
        await task.deferLater(reactor, 0.01, lambda: None)

    def test_leaves_a_timer(self):
        reactor.callLater(60, lambda: None)
'''


def test_trial_and_pytest_twisted_still_have_what_the_base_relies_on():
    assert "_wait" in unittest.TestCase._runFixturesAndTest.__code__.co_names
    assert "_Janitor" in unittest.TestCase._cleanUp.__code__.co_names
    assert "_Janitor" in unittest.TestCase._classCleanUp.__code__.co_names
    assert callable(util._Janitor.postCaseCleanup) and callable(util._Janitor.postClassCleanup)
    assert hasattr(pytest_twisted._instances, "gr_twisted") and callable(pytest_twisted.blockon)


def run(tmp_path: Path, source: str, *command: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_bridged.py").write_text(textwrap.dedent(source))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_under_pytest_a_trial_test_after_a_pytest_twisted_one_runs_reports_and_leaves_the_reactor_alone(tmp_path):
    result = run(tmp_path, MIXED, "pytest", "-p", "no:cacheprovider", "-q", "test_bridged.py")
    assert "1 failed, 3 passed, 1 skipped" in result.stdout, result.stdout + result.stderr
    assert "Trial::test_fails" in result.stdout


def test_under_trial_the_janitor_still_fails_a_test_that_leaves_a_timer(tmp_path):
    result = run(tmp_path, DIRTY, "twisted.trial", "test_bridged")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "DirtyReactorAggregateError" in output and "test_leaves_a_timer" in output, output
    assert "FAILED (errors=1, successes=1)" in output, output
