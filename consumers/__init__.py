"""Event consumers: the shared runtime and one package per consumer."""
