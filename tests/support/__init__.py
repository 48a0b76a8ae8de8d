"""What every test folder uses: new databases (databases.py), a running node (node.py), the WAMP
test client (wamp.py), users made through the front door (users.py), and the base of the tests
that both trial and pytest run (trial.py)."""

import txaio

# Before any test imports autobahn.wamp.serializer, which binds txaio's functions (time_ns) as it
# is imported: they work only once a framework is chosen. Every module of autobahn.twisted
# chooses Twisted too, so otherwise which of a test's imports came first would decide.
txaio.use_twisted()
