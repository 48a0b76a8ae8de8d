"""`taxi bench --city`: a simulated city's drivers and riders against taxi's dispatch.

model.py (the city, the drivers' movement and behaviour: pure), ledger.py (what the clients
saw), drivers.py and riders.py (the WAMP clients), audit.py (every offer event against the
offers the database made), figures.py (the figures and their table), run.py (one point),
cli.py (the command, the sweep and its plot).
"""
