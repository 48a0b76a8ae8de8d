"""taxi's tests: a package, so that `trial tests` finds them as pytest does (tests/support/trial.py)."""
