"""What every test folder uses: new databases (databases.py), a running node (node.py), the WAMP
test client (wamp.py), users made through the front door (users.py), and the base of the tests
that both trial and pytest run (trial.py)."""
