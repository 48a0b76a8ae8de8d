"""The `taxi` command and what it starts: the launcher that runs the router node and the backends."""
