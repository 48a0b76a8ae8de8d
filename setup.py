"""taxi's packaging. Besides the Python packages it ships the web app, whose one dependency,
Autobahn|JS, comes from npm (package.json, package-lock.json) and is never committed: building
taxi (`pip install .`, `pip install -e .`, `pip wheel .`, `make`) runs `npm ci` and copies the
bundle into crossbar_config/web/vendor/, so a page served by any installed taxi can connect."""

import shutil
import subprocess
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
NPM_PACKAGE = ROOT / "node_modules" / "autobahn-browser"
VENDOR = ROOT / "crossbar_config" / "web" / "vendor"
BUNDLE = ("autobahn.min.js", "LICENSE")


def fetch_web_bundle() -> None:
    """Into the source tree, not only the build directory: an editable install serves it from there.
    Without npm the install goes on; `taxi run` then says at start that the bundle is missing."""
    lock, bundle = ROOT / "package-lock.json", VENDOR / BUNDLE[0]
    if not lock.exists() or (bundle.exists() and bundle.stat().st_mtime >= lock.stat().st_mtime):
        return
    npm = shutil.which("npm")
    if npm is None:
        print(f"warning: npm is not on the PATH, so the web app's Autobahn|JS is missing from {VENDOR}")
        return
    if subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT).returncode != 0:
        print(f"warning: `npm ci` failed, so the web app's Autobahn|JS is missing from {VENDOR}")
        return
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name in BUNDLE:
        shutil.copyfile(NPM_PACKAGE / name, VENDOR / name)


class BuildWithWebBundle(build_py):
    def run(self) -> None:
        fetch_web_bundle()
        # The package data may have been listed before the bundle was there (egg_info lists the
        # sources first); setuptools lists it again when asked after this.
        self.__dict__.pop("data_files", None)
        super().run()


setup(
    name="taxi",
    version="0.1.0",
    description="Real-time ride-hailing dispatch on WAMP: Crossbar.io, Autobahn|Python, SQLAlchemy",
    python_requires=">=3.11",
    packages=find_packages(include=["taxi_core", "taxi_core.*", "components", "components.*", "taxi", "taxi.*", "taxi_bench", "taxi_bench.*", "crossbar_config"]),
    package_data={
        "taxi_core": ["migrations/script.py.mako", "migrations/versions/*.py"],
        "crossbar_config": ["config.yaml", "proxies.yaml", "web/*", "web/**/*"],
    },
    install_requires=[
        # Pinned to the release whose restart and authorizer-cache behaviour we read and
        # test against (README: "Why taxi supervises its own backends").
        "crossbar==26.10.1",
        "autobahn[twisted]>=26.10",
        "twisted>=24.3",
        "sqlalchemy>=2.0,<3",
        "alembic>=1.13",
        "psycopg2-binary>=2.9",
        "argon2-cffi>=23.1",
        # Backends over TCP: `taxi keygen` and the key lists use PyNaCl's Ed25519 directly, and
        # the launcher reads and writes the node's YAML config (both come with Crossbar too).
        "pynacl>=1.5",
        "pyyaml>=6",
        # crossbar 26.10 pulls bjdata, whose compiled extension was built against NumPy 1:
        # with NumPy 2 every import of autobahn's serializers prints a NumPy ABI traceback.
        # numpy<2 keeps `pip check` clean and the tracebacks gone.
        "numpy<2",
        # The backends' metrics (components/metrics.py): CollectorRegistry and the text format,
        # stable for years; 0.20 is simply the oldest we have run.
        "prometheus-client>=0.20",
    ],
    extras_require={
        # playwright drives Debian's `chromium` for tests/browser (never `playwright install`);
        # 1.51 for Locator.filter(visible=) and WebSocket routing (1.48).
        "test": ["pytest>=8", "pytest-twisted>=1.14", "hypothesis>=6.100", "playwright>=1.51"],
        # `taxi bench`: its progress bar, its CPU and memory figures, and the --sweep plot.
        "bench": ["tqdm>=4.66", "psutil>=5.9", "matplotlib>=3.8"],
    },
    entry_points={"console_scripts": ["taxi = taxi.cli:main"]},
    cmdclass={"build_py": BuildWithWebBundle},
)
