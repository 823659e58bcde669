"""What each consumer process reports on /metrics."""

from __future__ import annotations

from typing import ClassVar
from weakref import WeakKeyDictionary

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_LAG = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


class ConsumerMetrics:
    """One set per registry, labelled by consumer: `cms up` runs every consumer in one process."""

    _per_registry: ClassVar[WeakKeyDictionary[CollectorRegistry, ConsumerMetrics]] = WeakKeyDictionary()

    @classmethod
    def of(cls, registry: CollectorRegistry) -> ConsumerMetrics:
        found = cls._per_registry.get(registry)
        if found is None:
            found = cls._per_registry[registry] = cls(registry)
        return found

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["consumer"]
        self.handled = Counter(
            "cms_consumer_handled", "Messages acknowledged", [*labels, "outcome"], registry=registry
        )
        self.failed = Counter("cms_consumer_failed", "Handler failures", labels, registry=registry)
        self.retried = Counter(
            "cms_consumer_retried", "Messages sent to a retry queue", labels, registry=registry
        )
        self.dead_lettered = Counter(
            "cms_consumer_dead_lettered", "Messages sent to the DLQ", labels, registry=registry
        )
        self.latency = Histogram(
            "cms_consumer_handler_seconds",
            "Time to handle one message",
            labels,
            registry=registry,
            buckets=_LATENCY,
        )
        self.lag = Histogram(
            "cms_consumer_lag_seconds",
            "From the event's time to its handling",
            labels,
            registry=registry,
            buckets=_LAG,
        )
        self.consuming = Gauge(
            "cms_consumer_consuming", "1 while subscribed to its queue", labels, registry=registry
        )
