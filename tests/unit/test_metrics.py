"""A backend's metrics (components/metrics.py): every call through TripProcedures' one handler is
counted by procedure and outcome and timed, on a clock the test moves; and the settings that
say where the metrics are served (taxi_core/config.py, taxi/supervisor.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from autobahn.wamp.exception import ApplicationError
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from components.metrics import Metrics
from components.outbox import Publisher
from components.trips import Procedure, TripProcedures
from taxi.supervisor import backend_environment
from taxi_bench.stub import InlinePool, MemoryOutbox
from taxi_core import validation
from taxi_core.config import Settings
from taxi_core.domain import TripTaken
from taxi_core.operations import Figures


# What the router discloses of the caller (Autobahn's CallDetails: the handler reads these two).
CALLER = SimpleNamespace(caller=7, caller_authid="ada")


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Taking:
    """A use case that takes as long as the test says, then answers or raises what it is told."""

    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.seconds, self.raises = 0.0, None

    def __call__(self, service, caller, kwargs):
        self.clock.now += self.seconds
        if self.raises is not None:
            raise self.raises
        return {"served": caller.authid}


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def use_case(clock):
    return Taking(clock)


@pytest.fixture
def metrics(clock):
    return Metrics(clock=clock)


@pytest.fixture
def call(use_case, metrics):
    """Calls "test.proc" as the router would: through the handler TripProcedures registers."""
    pool = InlinePool()
    procedures = TripProcedures(object(), pool, Publisher(MemoryOutbox(), pool, Clock()),
                                [Procedure("test.proc", validation.NO_ARGUMENTS, use_case)], metrics=metrics)  # fmt: skip
    handlers = {}

    class Session:  # what TripProcedures asks of Autobahn's session: register(handler, uri, options)
        def register(self, handler, uri, options):
            handlers[uri] = handler
            return Deferred()

    procedures.register(Session())

    def call(*args, **kwargs):
        outcome = []
        handlers["test.proc"](*args, details=CALLER, **kwargs).addBoth(outcome.append)
        return outcome[0]

    return call


def sample(metrics: Metrics, name: str, **labels) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_a_call_that_succeeds_is_counted_ok_and_timed(call, use_case, metrics):
    use_case.seconds = 0.03
    assert call() == {"served": "ada"}
    assert sample(metrics, "taxi_calls_total", procedure="test.proc", outcome="ok") == 1
    assert sample(metrics, "taxi_call_seconds_count", procedure="test.proc") == 1
    assert sample(metrics, "taxi_call_seconds_sum", procedure="test.proc") == pytest.approx(0.03)
    assert sample(metrics, "taxi_call_seconds_bucket", procedure="test.proc", le="0.025") == 0
    assert sample(metrics, "taxi_call_seconds_bucket", procedure="test.proc", le="0.05") == 1


def test_a_domain_error_is_counted_under_the_uri_the_caller_is_answered(call, use_case, metrics):
    use_case.raises = TripTaken("taken")
    call()
    call()
    assert sample(metrics, "taxi_calls_total", procedure="test.proc", outcome="taxi.error.trip_taken") == 2
    assert sample(metrics, "taxi_calls_total", procedure="test.proc", outcome="ok") is None


def test_refused_arguments_are_counted_invalid_argument_without_running_the_use_case(call, use_case, metrics):
    use_case.seconds = 5
    failure = call("positional")
    assert failure.value.error == "taxi.error.invalid_argument"
    assert sample(metrics, "taxi_calls_total", procedure="test.proc", outcome="taxi.error.invalid_argument") == 1
    assert sample(metrics, "taxi_call_seconds_sum", procedure="test.proc") == 0


def test_an_unexpected_failure_is_counted_internal(call, use_case, metrics):
    use_case.raises = RuntimeError("SELECT * FROM secrets")
    failure = call()
    assert failure.check(ApplicationError) and failure.value.error == "taxi.error.internal"
    assert sample(metrics, "taxi_calls_total", procedure="test.proc", outcome="taxi.error.internal") == 1


def test_figures_and_session_counts_become_the_gauges_of_the_next_scrape(metrics):
    metrics.saw_figures(Figures(trips={"REQUESTED": 3, "EXPIRED": 1}, offers=9, outbox=2, outbox_oldest_seconds=4.5))
    metrics.saw_sessions({"rider": 5, "driver": 2})
    page = metrics.exposition().decode()
    for line in ('taxi_trips{status="REQUESTED"} 3.0', 'taxi_trips{status="EXPIRED"} 1.0', "taxi_offers 9.0",
                 "taxi_outbox_events 2.0", "taxi_outbox_oldest_seconds 4.5", 'taxi_sessions{role="rider"} 5.0'):  # fmt: skip
        assert line in page.splitlines()


def test_metrics_are_off_unless_a_port_is_set_and_bound_to_localhost_unless_told():
    assert Settings.from_environ({}).metrics_port is None
    assert Settings.from_environ({"TAXI_METRICS_PORT": ""}).metrics_port is None
    served = Settings.from_environ({"TAXI_METRICS_PORT": "9464"})
    assert (served.metrics_port, served.metrics_host) == (9464, "127.0.0.1")
    assert Settings.from_environ({"TAXI_METRICS_PORT": "9464", "TAXI_METRICS_HOST": "0.0.0.0"}).metrics_host == "0.0.0.0"
    with pytest.raises(ValueError, match="TAXI_METRICS_PORT"):
        Settings.from_environ({"TAXI_METRICS_PORT": "70000"})


def test_each_backend_of_taxi_run_serves_its_metrics_on_the_next_port_up():
    env = {"TAXI_METRICS_PORT": "9464", "TAXI_PORT": "8080"}
    assert [backend_environment(env, n)["TAXI_METRICS_PORT"] for n in (1, 2, 3)] == ["9464", "9465", "9466"]
    assert "TAXI_METRICS_PORT" not in backend_environment({"TAXI_PORT": "8080"}, 2)
