"""The shared nodes: one per database (and one separate node, whose backend socket and ticket the
tests know), started the first time a test asks and kept for the rest of the process.

Every test that needs no node of its own uses these, in either runner: trial's tests through
`await shared_node(database)` (the node starts in a thread and is polled on the reactor, which
never blocks), pytest's session fixture `node` through `shared_node_now(database)`. So a pytest run,
whose trial-style tests and pytest-style tests mix, starts each database's node once.

They stop at the end: under pytest, the session fixture in tests/conftest.py calls
`stop_shared_nodes()` and fails the run unless every node stops cleanly on Ctrl-C; under trial,
which has no hook at the end of a run, an atexit hook stops them and reports one that did not
on stderr, keeping its logs.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Mapping

from twisted.internet import threads

from .databases import new_database
from .node import Node, stopped_uncleanly

_nodes: dict[tuple, Node] = {}  # (database, separate, environment's items, remote, proxies)
_failures: dict[tuple, BaseException] = {}  # a node that could not start is not tried again
_cleanup = ExitStack()


async def shared_node(
    database: str, *, separate: bool = False, environment: Mapping[str, str] | None = None, remote: bool = False,
    proxies: int = 0,
) -> Node:  # fmt: skip
    """The node on `database` (sqlite or postgresql), serving; started if it is not yet. One
    `environment` (settings of its own, tests/support/node.py) is one more node; so is `remote`
    (backends joined over TCP with keys, Node's remote=True), and so are `proxies` (proxy nodes
    in front of the router, Node's proxies)."""
    key = (database, separate, tuple(sorted((environment or {}).items())), remote, proxies)
    if key not in _nodes and key not in _failures:
        try:
            node = await threads.deferToThread(_start, key)
            await node.serving()
        except BaseException as error:
            _failures[key] = error
    return _get(key)


def shared_node_now(database: str, *, separate: bool = False, remote: bool = False, proxies: int = 0) -> Node:
    """The same node, waited for by blocking: for pytest's fixtures, which run off the reactor."""
    key = (database, separate, (), remote, proxies)
    if key not in _nodes and key not in _failures:
        try:
            _start(key).wait_until_serving()
        except BaseException as error:
            _failures[key] = error
    return _get(key)


def _get(key) -> Node:
    if key in _failures:
        raise _failures[key]
    return _nodes[key]


def _start(key) -> Node:
    database, separate, environment, remote, proxies = key
    if not _nodes:
        atexit.register(_stop_at_exit)
    workdir = Path(tempfile.mkdtemp(prefix=f"taxi-test-node-{database}-"))
    try:
        url = _cleanup.enter_context(new_database(database, workdir))
    except BaseException:
        shutil.rmtree(workdir)
        raise
    _nodes[key] = node = Node(
        url, workdir, separate=separate, remote=remote, environment=dict(environment), proxies=proxies
    )
    return node


def stop_shared_nodes() -> list[str]:
    """Ctrl-C to every shared node; what went wrong, one text per node that did not stop cleanly."""
    problems = []
    while _nodes:
        _, node = _nodes.popitem()
        returncode = node.stop()
        if returncode == 0:
            shutil.rmtree(node.workdir, ignore_errors=True)
        else:
            problems.append(f"{stopped_uncleanly(node, returncode)}\n(its logs: {node.workdir})")
    _failures.clear()
    _cleanup.close()
    return problems


def _stop_at_exit() -> None:
    for problem in stop_shared_nodes():
        print(problem, file=sys.stderr)
