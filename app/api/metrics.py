"""Prometheus metrics, one registry per app: requests, documents, pages, OCR latency, errors, queue, GPU."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter as Tally
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


class _GpuCollector:
    """GPU utilisation and memory, only when CUDA is present (torch is not imported on CPU-only hosts)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if sys.modules.get("torch") is None and not os.path.exists("/proc/driver/nvidia/version"):
            return
        try:
            import torch  # the loaded one when a reader loaded it
        except Exception:
            return
        try:
            if not torch.cuda.is_available():
                return
            used = GaugeMetricFamily("invoice_ocr_gpu_memory_used_bytes", "GPU memory in use", labels=["gpu"])
            total = GaugeMetricFamily("invoice_ocr_gpu_memory_total_bytes", "GPU memory in total", labels=["gpu"])
            util = GaugeMetricFamily("invoice_ocr_gpu_utilization_ratio", "GPU utilisation 0..1", labels=["gpu"])
            for index in range(torch.cuda.device_count()):
                free, whole = torch.cuda.mem_get_info(index)
                used.add_metric([str(index)], float(whole - free))
                total.add_metric([str(index)], float(whole))
                with contextlib.suppress(Exception):  # needs the NVML bindings; memory figures still count
                    util.add_metric([str(index)], torch.cuda.utilization(index) / 100.0)
        except Exception:
            return
        yield used
        yield total
        if util.samples:
            yield util


class Metrics:
    """The app's metrics; `render()` is the /metrics body."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.request_latency = Histogram(
            "invoice_ocr_request_seconds",
            "HTTP request latency per route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "invoice_ocr_requests", "HTTP requests per route and status", ["method", "route", "status"], registry=r
        )
        self.documents = Counter("invoice_ocr_documents", "Documents extracted per engine", ["engine"], registry=r)
        self.pages = Counter("invoice_ocr_pages", "Pages read per engine", ["engine"], registry=r)
        self.ocr_latency = Histogram(
            "invoice_ocr_ocr_seconds",
            "OCR time per document and engine",
            ["engine"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter("invoice_ocr_errors", "Errors answered, by kind", ["kind"], registry=r)
        self.queue_waiting = Gauge("invoice_ocr_queue_waiting", "Extractions waiting for a worker", registry=r)
        self.queue_running = Gauge("invoice_ocr_queue_running", "Extractions running", registry=r)
        self.queue_capacity = Gauge("invoice_ocr_queue_capacity", "Workers plus waiting slots", registry=r)
        r.register(_GpuCollector())

    def error(self, kind: str) -> None:
        """Count one error answer of this kind (its code)."""
        self.errors.labels(kind).inc()

    def observe_document(self, engines: list[str], ocr_seconds: float | None) -> None:
        """Count one document read, its pages per engine, and its OCR time under the main engine."""
        tally = Tally(engines)
        for engine, count in tally.items():
            self.pages.labels(engine).inc(count)
        main = tally.most_common(1)[0][0] if tally else "none"
        self.documents.labels(main).inc()
        if ocr_seconds is not None:
            self.ocr_latency.labels(main).observe(ocr_seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Pure ASGI middleware: request latency per route template (never per raw path)."""

    def __init__(self, app: Callable[..., Any], metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        """Time one request and label it with its route template."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None)
            if template is None:
                template = "/ui" if scope.get("path", "").startswith("/ui") else "unmatched"
            method = scope.get("method", "GET")
            self.metrics.request_latency.labels(method, template).observe(time.perf_counter() - start)
            self.metrics.requests.labels(method, template, str(status["code"])).inc()
