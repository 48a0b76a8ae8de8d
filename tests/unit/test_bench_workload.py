"""The benchmark's driver takes a trip once, however often at-least-once delivery hands it the
same event (docs/contract.md: a client drops an event whose seq it has seen)."""

from __future__ import annotations

from twisted.internet import defer, task

from taxi_bench.workload import Workload


class Driver:
    """Records the steps a driver's client calls."""

    def __init__(self):
        self.steps = []

    def call(self, procedure, **kwargs):
        self.steps.append(kwargs["status"])
        return defer.succeed({})


def a_workload_with_one_driver():
    workload = Workload(task.Clock(), "ws://unused", drivers=1, riders=1)
    workload.drivers = [Driver()]
    return workload


def requested(workload, seq=1):
    return {"nk": "ab12", "seq": seq, "status": "REQUESTED", "pick_up_address": f"{workload.tag} rider 0"}


def test_a_redelivered_request_is_dropped_and_the_driver_takes_the_trip_once():
    workload = a_workload_with_one_driver()
    workload._on_driver_alert(0, requested(workload))
    workload._trace("ab12").subscribed.callback(None)
    workload._on_driver_alert(0, requested(workload))
    assert workload.drivers[0].steps == ["STARTED", "IN_PROGRESS", "COMPLETED"]
    assert workload.duplicates() == 1
    assert workload.traces["ab12"].requested_alerts == 1


def test_someone_elses_trip_on_a_shared_node_is_not_counted():
    workload = a_workload_with_one_driver()
    workload._on_driver_alert(0, {"nk": "cd34", "seq": 1, "status": "REQUESTED", "pick_up_address": "other"})
    assert workload.traces == {} and workload.duplicates() == 0
