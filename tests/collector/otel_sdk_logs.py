"""Sends log records through the real OpenTelemetry Python SDK and one of its OTLP log
exporters, unchanged, to a collector:
  json        opentelemetry-exporter-otlp-json-http (OTLP/HTTP JSON), the default
  proto-http  opentelemetry-exporter-otlp-proto-http (OTLP/HTTP protobuf, gzip)
  grpc        opentelemetry-exporter-otlp-proto-grpc (OTLP/gRPC, plaintext; ENDPOINT host:port)

Usage: otel_sdk_logs.py ENDPOINT API_KEY MARKER COUNT [EXPORTER [GENERATOR]]
Record i is "MARKER record i" with the attribute record.index = i; with GENERATOR also
loadgen.id = GENERATOR and loadgen.seq = i, the identity idl-check counts (docs/e2e.md).
Each export gives up after IDL_OTEL_TIMEOUT seconds (default 10), retries included.
Prints the trace id used for the records and exits 0 only if every export succeeded.
"""
import logging
import os
import sys

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider


def exporter_class(kind):
    """The SDK's exporter of that kind (imported only when used: each lives in its own venv)."""
    if kind == "json":
        from opentelemetry.exporter.otlp.json.http._log_exporter import OTLPLogExporter
    elif kind == "proto-http":
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    elif kind == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    else:
        raise SystemExit("unknown exporter " + kind)
    return OTLPLogExporter


def counting(base):
    class CountingExporter(base):
        """The SDK's exporter, remembering whether every export succeeded."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.exported = 0
            self.failures = 0

        def export(self, batch):
            result = super().export(batch)
            if result == LogRecordExportResult.SUCCESS:
                self.exported += len(batch)
            else:
                self.failures += 1
            return result

    return CountingExporter


def main():
    endpoint, key, marker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    kind = sys.argv[5] if len(sys.argv) > 5 else "json"
    generator = sys.argv[6] if len(sys.argv) > 6 else None
    resource = Resource.create({"service.name": "otel-py", "host.name": "sdk-host"})
    provider = LoggerProvider(resource=resource)
    options = {"endpoint": endpoint, "timeout": float(os.environ.get("IDL_OTEL_TIMEOUT", "10"))}
    if kind == "grpc":
        # gRPC metadata keys are lower-case; the value has the HTTP Authorization forms.
        from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression
        options.update(insecure=True, headers={"authorization": "Bearer " + key},
                       compression=Compression.Gzip)
    elif kind == "proto-http":
        from opentelemetry.exporter.otlp.proto.http import Compression
        options.update(headers={"Authorization": "Bearer " + key}, compression=Compression.Gzip)
    else:
        options.update(headers={"Authorization": "Bearer " + key})
    exporter = counting(exporter_class(kind))(**options)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
    handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
    logger = logging.getLogger("idl.otel.test")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    trace.set_tracer_provider(TracerProvider(resource=resource))
    tracer = trace.get_tracer("idl.otel.test")
    with tracer.start_as_current_span("send-logs") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
        for i in range(count):
            extra = {"record.index": i}
            if generator:
                extra.update({"loadgen.id": generator, "loadgen.seq": i})
            logger.warning("%s record %d", marker, i, extra=extra)
    provider.force_flush()
    provider.shutdown()
    print(trace_id)
    print("exported", exporter.exported, "failures", exporter.failures, file=sys.stderr)
    return 0 if exporter.exported == count and exporter.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
