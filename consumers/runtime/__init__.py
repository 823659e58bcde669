"""The runtime every consumer shares: topology, version claims, retries, DLQ, health."""
