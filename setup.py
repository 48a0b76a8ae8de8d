from setuptools import find_packages, setup

setup(
    name="taxi",
    version="0.1.0",
    description="Real-time ride-hailing dispatch on WAMP: Crossbar.io, Autobahn|Python, SQLAlchemy",
    python_requires=">=3.11",
    packages=find_packages(include=["taxi_core", "taxi_core.*", "components", "components.*", "taxi", "taxi.*", "taxi_bench", "taxi_bench.*", "crossbar_config"]),
    package_data={
        "taxi_core": ["migrations/script.py.mako", "migrations/versions/*.py"],
        "crossbar_config": ["config.yaml", "web/*", "web/**/*"],
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
        # crossbar 26.10 pulls bjdata, whose compiled extension was built against NumPy 1:
        # with NumPy 2 every import of autobahn's serializers prints a NumPy ABI traceback.
        # numpy<2 keeps `pip check` clean and the tracebacks gone.
        "numpy<2",
    ],
    extras_require={
        # playwright drives Debian's `chromium` for tests/browser (never `playwright install`);
        # 1.51 for Locator.filter(visible=) and WebSocket routing (1.48).
        "test": ["pytest>=8", "pytest-twisted>=1.14", "hypothesis>=6.100", "playwright>=1.51"],
        # `taxi bench`: its progress bar, its CPU and memory figures, and the --sweep plot.
        "bench": ["tqdm>=4.66", "psutil>=5.9", "matplotlib>=3.8"],
    },
    entry_points={"console_scripts": ["taxi = taxi.cli:main"]},
)
