"""Optional OpenTelemetry tracing, through Strawberry's own extension (``pip install ".[otel]"``).

Nothing is imported unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; then, if the packages are installed, each
operation and its resolvers become spans exported over OTLP (the exporter reads the endpoint and the other
``OTEL_*`` variables itself; ``OTEL_SERVICE_NAME`` defaults to ``integrations-graphql``). Spans carry neither
the query text nor field arguments: both may hold passwords and secrets (``generateAdminToken``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator
from typing import Any

from settings import Settings

logger = logging.getLogger("observability.tracing")

SERVICE_NAME = "integrations-graphql"

_provider: Any = None


def provider() -> Any:
    """This process's tracer provider, exporting over OTLP (made once, and made the global one if none is)."""
    global _provider
    if _provider is None:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
        _provider = TracerProvider(resource=resource)
        _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            trace.set_tracer_provider(_provider)
    return _provider


def _no_arguments(arguments: dict[str, Any], info: Any) -> dict[str, Any]:
    return {}


def tracing_extension(settings: Settings) -> Callable[[], Any] | None:
    """The schema extension factory, or None: no endpoint, or the ``otel`` extra is not installed."""
    if not settings.otel_endpoint:
        return None
    try:
        from strawberry.extensions.tracing import OpenTelemetryExtension
        from strawberry.extensions.tracing.opentelemetry import SpanKind

        tracer_provider = provider()
    except ImportError:
        logger.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but the otel extra is not installed: no tracing")
        return None

    class Tracing(OpenTelemetryExtension):
        """Strawberry's extension, with the operation span named but without the query text or arguments."""

        def on_operation(self) -> Generator[None, None, None]:
            from strawberry.extensions import LifecycleStep

            name = self.execution_context.operation_name
            span = self._tracer.start_span(f"GraphQL Query: {name}" if name else "GraphQL Query", kind=SpanKind.SERVER)
            span.set_attribute("component", "graphql")
            self._operation_name = name
            self._span_holder[LifecycleStep.OPERATION] = span
            yield
            if not name and self.execution_context.operation_name:
                span.update_name(f"GraphQL Query: {self.execution_context.operation_name}")
            span.end()

    return lambda: Tracing(arg_filter=_no_arguments, tracer_provider=tracer_provider)
