"""`taxi bench`: the dispatch workload against taxi, and against the router's own floor.

cli.py (arguments, the runs, the sweep) · nodes.py (a node of our own, its processes) ·
workload.py (the clients and the trip choreography) · stub.py (the floor's backend) ·
stats.py (percentiles, CPU and RSS) · report.py (table, ratios, JSON) · plot.py (the sweep, the soak) ·
soak.py (`--soak`: many trips on taxi alone, and what the router and the backend keep).
"""
