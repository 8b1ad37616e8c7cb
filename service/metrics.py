"""Prometheus metrics. One registry per app, so several apps (tests) never collide."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    generate_latest,
)

from service import __version__

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

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
        build = Info("socialid_build", "Version of socialid and of its runtime.", registry=r)
        build.info({"version": __version__, "python": platform.python_version()})

    content_type = CONTENT_TYPE_LATEST

    def render(self) -> bytes:
        return generate_latest(self.registry)
