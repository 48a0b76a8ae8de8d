"""taxi_core is plain Python: it never imports the WAMP side (STYLE.md, "The layers")."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

# Imports every module of taxi_core in a fresh interpreter, then runs the migrations on an
# in-memory SQLite database so that Alembic's env.py and every version script load too
# (env.py is a script that only runs inside Alembic), and reports what got imported.
# Alembic does not keep those scripts in sys.modules, but whatever they import stays.
IMPORT_EVERYTHING = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys
    import taxi_core
    from taxi_core.migrate import migrate

    modules = [m.name for m in pkgutil.walk_packages(taxi_core.__path__, "taxi_core.")]
    for name in modules:
        if name != "taxi_core.migrations.env":
            importlib.import_module(name)
    migrate("sqlite://")
    print(json.dumps({"modules": modules, "imported": sorted(sys.modules)}))
    """
)


def _import_all_of_taxi_core() -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(completed.stdout.splitlines()[-1])


def test_no_taxi_core_module_imports_twisted_or_autobahn():
    report = _import_all_of_taxi_core()
    assert {"taxi_core.services", "taxi_core.validation", "taxi_core.migrations.env"} <= set(report["modules"])
    wamp_side = {"twisted", "autobahn", "crossbar", "txaio"}
    assert [name for name in report["imported"] if name.split(".")[0] in wamp_side] == []


# What Crossbar loads into its own processes (crossbar_config/config.yaml's components and
# /healthz, proxies.yaml's relay): a router start pays for every import there, and SQLAlchemy
# was a quarter of a second of it (docs/reliability.md, "Reconnect storm").
IN_CROSSBAR = ("components.router_guard", "components.router_retention", "components.router_health",
               "components.proxy_guard", "components.backend_keys")  # fmt: skip


def test_what_crossbar_loads_into_the_router_and_the_proxies_imports_no_sqlalchemy():
    script = f"import sys; import {', '.join(IN_CROSSBAR)}; print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert completed.stdout.strip() == "[]"
