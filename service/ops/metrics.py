"""Prometheus metrics. One registry per app, so several apps (tests) never collide."""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TypeVar, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from service import __version__

M = TypeVar("M", bound=MetricWrapperBase)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    process: int = 1
    # One of several serve processes: every series says which, so that each stays one
    # process's own (a counter that took turns between processes would seem to reset).
    labelled: bool = False
    _children: dict[tuple[int, tuple[str, ...]], MetricWrapperBase] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "socialid_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "socialid_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            ["route", "method", "status"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.redis_errors = Counter(
            "socialid_redis_errors",
            "Redis commands that failed (connection lost, timeout, server error).",
            ["where"],
            registry=r,
        )
        self.auth_failures = Counter(
            "socialid_auth_failures",
            "Requests refused for a missing or bad credential, or a missing scope.",
            ["reason"],
            registry=r,
        )
        self.rate_limited = Counter(
            "socialid_rate_limited",
            "Requests answered 429: an API key over its rate, or a client address over its "
            "failed authentications.",
            ["kind"],
            registry=r,
        )
        self.deliveries = Counter(
            "socialid_webhook_deliveries",
            "Webhook deliveries by channel and outcome (accepted, duplicate, dead_letter, "
            "empty, refused).",
            ["channel", "outcome"],
            registry=r,
        )
        self.signature_failures = Counter(
            "socialid_webhook_signature_failures",
            "Webhook deliveries refused for a missing, wrong or stale signature.",
            ["channel", "reason"],
            registry=r,
        )
        self.reply_sends = Counter(
            "socialid_reply_sends",
            "Replies sent to the customer through the channel's provider, by channel and "
            "outcome (sent, failed, off).",
            ["channel", "outcome"],
            registry=r,
        )
        self.processed = Counter(
            "socialid_ingest_messages_processed",
            "Messages the worker of this process resolved and stored, by channel and "
            "resolution status.",
            ["channel", "status"],
            registry=r,
        )
        self.ingest_delay = Histogram(
            "socialid_ingest_delay_seconds",
            "Time from storing a delivery to its messages being resolved and stored.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ingest_lag = Gauge(
            "socialid_ingest_lag_seconds",
            "Age of the oldest delivery not yet processed (0 when none waits).",
            registry=r,
        )
        self.ingest_waiting = Gauge(
            "socialid_ingest_waiting", "Deliveries stored and not yet processed.", registry=r
        )
        self.dead_letters = Gauge(
            "socialid_ingest_dead_letters", "Deliveries in the dead-letter stream.", registry=r
        )
        self.resolutions = Gauge(
            "socialid_messages_resolved",
            "Messages resolved by every worker since the store was created, by channel and status.",
            ["channel", "status"],
            registry=r,
        )
        self.events_sent = Counter(
            "socialid_event_attempts",
            "Attempts to deliver an event to a subscription, by outcome: delivered, retry "
            "(failed, tried again later) or dead (failed for the whole retry window).",
            ["outcome"],
            registry=r,
        )
        self.event_attempt_seconds = Histogram(
            "socialid_event_attempt_duration_seconds",
            "Time a receiver took to answer one delivery attempt.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_pending = Gauge(
            "socialid_event_deliveries_pending",
            "Deliveries still to make, over every subscription.",
            registry=r,
        )
        self.events_dead = Gauge(
            "socialid_event_deliveries_dead",
            "Deliveries that gave up (dead letters, to replay), over every subscription.",
            registry=r,
        )
        build = Info("socialid_build", "Version of socialid and of its runtime.", registry=r)
        build.info({"version": __version__, "python": platform.python_version()})
        # Under serve --processes N, each scrape reaches one of the N: this says which,
        # and every other figure here is that process's alone.
        Info(
            "socialid_process",
            "The serve process that answered (1 to SOCIALID_PROCESSES) and its pid.",
            registry=r,
        ).info({"process": str(self.process), "pid": str(os.getpid())})

    def child(self, metric: M, *labels: str) -> M:
        """``metric.labels(*labels)``, kept after the first call: ``labels()`` takes a
        lock and checks its arguments every time, and every request asks."""
        key = (id(metric), labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return cast(M, found)

    content_type = CONTENT_TYPE_LATEST

    def render(self) -> bytes:
        if not self.labelled:
            return generate_latest(self.registry)
        view = CollectorRegistry(auto_describe=False)
        view.register(_Labelled(self.registry, str(self.process)))
        return generate_latest(view)


class _Labelled(Collector):
    """The registry's metrics with a ``process`` label on every sample."""

    def __init__(self, registry: CollectorRegistry, process: str) -> None:
        self._registry = registry
        self._process = process

    def collect(self) -> Iterable[Metric]:
        for family in self._registry.collect():
            family.samples = [
                sample._replace(labels={**sample.labels, "process": self._process})
                for sample in family.samples
            ]
            yield family
