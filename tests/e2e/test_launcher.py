"""`taxi run` and `taxi migrate` as a user meets them: what a start prints, how Ctrl-C stops it,
what a database that cannot be used is told as, and the page of a taxi installed with pip."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from sqlalchemy.engine import make_url

from taxi.ports import free_port

from tests.support.node import BACKEND_READY, TAXI, Node, wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DEFAULT_START_LINES = 8
COMMAND_TIMEOUT = 60


def lines_before_ready(node: Node) -> list[str]:
    lines = node.logs[0].read_text(errors="replace").splitlines()
    return lines[: next(i for i, line in enumerate(lines) if BACKEND_READY in line)]


def test_a_start_says_what_serves_where_in_a_handful_of_lines(new_database, tmp_path):
    with new_database("postgresql") as url:
        secret_url = make_url(url).set(password="s3cret-pw").render_as_string(hide_password=False)
        node = Node(secret_url, tmp_path, "--backends", "2")  # trust auth: any password does
        try:
            node.wait_until_serving(backends=2)
            start = "\n".join(lines_before_ready(node))
        finally:
            node.stop()
    assert len(start.splitlines()) <= DEFAULT_START_LINES, start
    assert f"http://127.0.0.1:{node.port}/" in start
    assert f"ws://127.0.0.1:{node.port}/ws" in start
    assert make_url(url).set(password="s3cret-pw").render_as_string(hide_password=True) in start
    assert "s3cret-pw" not in node.logs[0].read_text()
    assert "2 backends" in start
    assert node.log_count(BACKEND_READY) == 2


def test_verbose_brings_back_the_libraries_lines(new_database, tmp_path):
    with new_database("sqlite") as url:
        node = Node(url, tmp_path, "--verbose")
        try:
            node.wait_until_serving()
            start = lines_before_ready(node)
        finally:
            node.stop()
    assert len(start) > 5 * DEFAULT_START_LINES
    assert any("Crossbar.io" in line for line in start)


@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_at_a_terminal_stops_everything_quietly_with_status_0(new_database, tmp_path, presses):
    """A terminal sends Ctrl-C to the whole foreground group: `taxi run`, the router, the backends."""
    with new_database("sqlite") as url:
        node = Node(url, tmp_path, "--backends", "2")
        node.wait_until_serving(backends=2)
        started = node.processes()
        served = len(node.logs[0].read_text().splitlines())
        for _ in range(presses):
            os.killpg(node.process.pid, signal.SIGINT)
            time.sleep(0.2)
        returncode = node.stop()
    _, alive = psutil.wait_procs(started, timeout=10)
    after = node.logs[0].read_text().splitlines()[served:]
    assert returncode == 0, node.log_tail()
    assert alive == []
    assert [line.split(" ", 1)[1] for line in after] == ["taxi: stopped"]


def _pg_url(new_database, database: str) -> str:
    with new_database("postgresql") as url:  # skips (or, on CI, fails) without a server
        return make_url(url).set(database=database).render_as_string(hide_password=False)


# case: (the URL, made from new_database and tmp_path; what its one line must say)
UNUSABLE = {
    "sqlite_directory_missing": (lambda db, tmp: f"sqlite:///{tmp}/no-such-dir/taxi.sqlite3", "directory must exist"),
    "url_unparsable": (lambda db, tmp: "not a url", "is not a database URL"),
    "driver_unknown": (lambda db, tmp: "oracle+nosuch://scott@db/taxi", "no database driver"),
    "postgres_spelling": (lambda db, tmp: "postgres://u:pw@db/taxi", "postgresql://, not postgres://"),
    "postgresql_server_down": (lambda db, tmp: f"postgresql://postgres@127.0.0.1:{free_port()}/t", "start the server"),
    "postgresql_database_missing": (
        lambda db, tmp: _pg_url(db, f"taxi_absent_{secrets.token_hex(4)}"),
        "create it first: createdb -h 127.0.0.1 -p 5432 -U postgres taxi_absent_",
    ),
}


@pytest.mark.parametrize("command", ["run", "migrate"])
@pytest.mark.parametrize("case", sorted(UNUSABLE))
def test_a_database_taxi_cannot_use_is_one_line_and_a_failure(new_database, tmp_path, case, command):
    make, expected = UNUSABLE[case]
    url = make(new_database, tmp_path)
    port = ["--port", str(free_port())] if command == "run" else []
    done = subprocess.run(
        [TAXI, command, *port, "--database-url", url], cwd=tmp_path, capture_output=True, text=True,
        timeout=COMMAND_TIMEOUT,
    )  # fmt: skip
    assert done.returncode != 0
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("taxi: ") and expected in line, line
    assert ":pw@" not in line


def test_a_port_that_is_taken_is_one_line_and_a_failure(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [TAXI, "run", "--port", str(port), "--database-url", f"sqlite:///{tmp_path}/taxi.sqlite3"],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
        )  # fmt: skip
    assert done.returncode != 0
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"taxi: port {port} is taken") and "--port" in line, line


def test_migrate_says_from_which_revision_to_which(new_database, tmp_path):
    with new_database("sqlite") as url:
        first, again = (
            subprocess.run([TAXI, "migrate", "--database-url", url], capture_output=True, text=True, check=True)
            for _ in range(2)
        )
    assert first.stdout == f"taxi: migrated {url} from <empty> to 0004 devices: users' device keys (WAMP-cryptosign) and the sessions that logged in with them (head)\n"
    assert again.stdout == f"taxi: {url} is already at 0004 devices: users' device keys (WAMP-cryptosign) and the sessions that logged in with them (head)\n"


# --- a taxi installed with pip, away from the source tree ---------------------------------------


@dataclass(frozen=True)
class Installed:
    """An installed taxi: the interpreter that runs it, its environment, where its packages are."""

    python: str
    env: dict[str, str]
    site: Path

    def run(self, *args: str, **options) -> subprocess.CompletedProcess:
        return subprocess.run([self.python, *args], env=self.env, capture_output=True, text=True, **options)


def _clean_checkout(directory: Path) -> Path:
    """The tracked files only, as a fresh clone has them: no web bundle, no node_modules."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (REPO / name).is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, directory / name)
    assert not (directory / "crossbar_config/web/vendor").exists()
    return directory


@pytest.fixture(scope="module")
def installed_taxi(request, tmp_path_factory) -> Installed:
    """taxi built by pip from a clean checkout, so the build itself must fetch the web bundle.

    By default its wheel is installed alone into a directory that goes first on PYTHONPATH
    (seconds); with --long, `pip install` of the checkout into a fresh venv, dependencies and
    all (a minute or more), as a user does it."""
    if shutil.which("npm") is None and os.environ.get("CI", "").lower() != "true":
        pytest.skip("npm is not on the PATH: the build cannot fetch the web app's Autobahn|JS")
    source = _clean_checkout(tmp_path_factory.mktemp("source"))
    pip = ["-m", "pip", "--disable-pip-version-check", "-q"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if request.config.getoption("--long"):
        venv = tmp_path_factory.mktemp("venv")
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        python = str(venv / "bin/python")
        purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
        site = subprocess.run([python, "-c", purelib], capture_output=True, text=True, check=True).stdout.strip()
        subprocess.run([python, *pip, "install", source], env=env, check=True)
        return Installed(python, env, Path(site))
    wheels, target = tmp_path_factory.mktemp("wheels"), tmp_path_factory.mktemp("installed")
    build = ["wheel", "--no-deps", "--no-build-isolation", "-w", wheels, source]
    subprocess.run([sys.executable, *pip, *build], check=True)
    [wheel] = wheels.glob("taxi-*.whl")
    assert "crossbar_config/web/vendor/autobahn.min.js" in zipfile.ZipFile(wheel).namelist()
    subprocess.run([sys.executable, *pip, "install", "--no-deps", "--target", target, wheel], check=True)
    return Installed(sys.executable, {**env, "PYTHONPATH": str(target)}, target)


class InstalledNode:
    """`taxi run` of the installed copy: every process it starts imports taxi from there."""

    def __init__(self, installed: Installed, database_url: str, workdir: Path):
        self.port = free_port()
        self.log_path = workdir / "taxi-run.log"
        command = [installed.python, "-m", "taxi.cli", "run", "--port", str(self.port), "--database-url", database_url]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=workdir, env=installed.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def __enter__(self):
        wait_until(lambda: BACKEND_READY in self.log() or self.process.poll() is not None, 90, "taxi run to serve")
        assert self.process.poll() is None, self.log()
        return self

    def __exit__(self, *exc) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(30) == 0, self.log()

    def status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/{path}") as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def test_the_page_of_a_pip_installed_taxi_has_its_autobahn_bundle(installed_taxi, new_database, tmp_path):
    where = installed_taxi.run("-c", "import crossbar_config; print(crossbar_config.__file__)", cwd=tmp_path).stdout
    assert Path(where.strip()).is_relative_to(installed_taxi.site)
    with new_database("sqlite") as url, InstalledNode(installed_taxi, url, tmp_path) as node:
        assert node.status("") == 200
        assert node.status("vendor/autobahn.min.js") == 200
        assert "bundle" not in node.log()


def test_a_taxi_without_its_web_bundle_says_so_in_one_line_at_start(installed_taxi, new_database, tmp_path):
    vendor = installed_taxi.site / "crossbar_config/web/vendor"
    kept = tmp_path / "vendor"
    shutil.move(vendor, kept)
    try:
        with new_database("sqlite") as url, InstalledNode(installed_taxi, url, tmp_path) as node:
            assert node.status("vendor/autobahn.min.js") == 404
            [line] = [line for line in node.log().splitlines() if "bundle" in line]
    finally:
        shutil.move(kept, vendor)
    assert "the web page cannot connect" in line and "npm ci" in line
