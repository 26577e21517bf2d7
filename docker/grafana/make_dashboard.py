#!/usr/bin/env python3
"""Writes dashboards/instant-dev-logs.json, the provisioned Grafana dashboard.

Every expression uses metric names registered by the services (backend/*/src, look for
Registry::global()); tests/deploy/validate_deploy.py checks that they still exist.
Re-run after editing: python3 docker/grafana/make_dashboard.py
"""
import json
import pathlib

DS = {"type": "prometheus", "uid": "idl-prometheus"}
panels = []
y = 0


def row(title):
    global y
    panels.append({"type": "row", "title": title, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "id": len(panels) + 1, "panels": []})
    y += 1


def ts(title, targets, x, w=12, h=8, unit="short", desc=""):
    panels.append({
        "type": "timeseries", "title": title, "description": desc, "datasource": DS,
        "id": len(panels) + 1, "gridPos": {"h": h, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit, "min": 0,
                                     "custom": {"drawStyle": "line", "fillOpacity": 10, "lineWidth": 1}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
        "targets": [{"datasource": DS, "refId": chr(65 + i), "expr": e, "legendFormat": l}
                    for i, (e, l) in enumerate(targets)],
    })


def stat(title, expr, x, w=6, unit="short", thresholds=None):
    steps = thresholds or [{"color": "green", "value": None}]
    panels.append({
        "type": "stat", "title": title, "datasource": DS, "id": len(panels) + 1,
        "gridPos": {"h": 4, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "area", "textMode": "auto"},
        "targets": [{"datasource": DS, "refId": "A", "expr": expr}],
    })


row("Overview")
stat("Ingest (events/s)", "sum(rate(idl_collector_events_accepted_total[1m]))", 0)
stat("Processor lag (records)", "sum(idl_processor_lag) or vector(0)", 6,
     thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 10000},
                 {"color": "red", "value": 100000}])
stat("Writer lag (events)", "sum(idl_writer_lag_events) or vector(0)", 12,
     thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 10000},
                 {"color": "red", "value": 100000}])
stat("Dead-lettered (1h)",
     "(sum(increase(idl_processor_dead_lettered_total[1h])) or vector(0)) + "
     "(sum(increase(idl_writer_dead_lettered_total[1h])) or vector(0))", 18,
     thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 1}])
y += 4

row("Ingestion (collector)")
ts("Events per second", [
    ("sum(rate(idl_collector_events_accepted_total[1m]))", "accepted"),
    ("sum(rate(idl_collector_events_rejected_total[1m]))", "rejected (invalid)"),
    ("sum(rate(idl_collector_events_failed_total[1m]))", "failed (429/503)"),
], 0, unit="ops")
ts("Requests by status", [
    ("sum by (code) (rate(idl_collector_requests_total[1m]))", "{{code}}"),
], 12, unit="reqps")
y += 8
ts("Kafka acknowledgement latency", [
    ("histogram_quantile(0.5, sum by (le) (rate(idl_collector_produce_latency_seconds_bucket[5m])))", "p50"),
    ("histogram_quantile(0.99, sum by (le) (rate(idl_collector_produce_latency_seconds_bucket[5m])))", "p99"),
], 0, unit="s")
ts("Back-pressure", [
    ("sum(idl_collector_kafka_queue_depth)", "producer queue"),
    ("sum(idl_collector_pending_requests)", "requests waiting for acks"),
], 12)
y += 8

row("Processing and storage")
ts("Consumer lag", [
    ("sum by (topic) (idl_processor_lag)", "processor {{topic}}"),
    ("sum(idl_writer_lag_events)", "writer"),
], 0, desc="Records behind the end of each topic; scale processors/writers on this (docs/operations.md).")
ts("Throughput", [
    ("sum(rate(idl_processor_produced_total[1m]))", "processed"),
    ("sum(rate(idl_writer_rows_written_total[1m]))", "stored"),
    ("sum(rate(idl_processor_retried_total[1m]))", "retried"),
], 12, unit="ops")
y += 8
ts("Dead letters", [
    ("sum by (code) (rate(idl_processor_dead_lettered_total[5m]))", "processor {{code}}"),
    ("sum by (reason) (rate(idl_writer_dead_lettered_total[5m]))", "writer {{reason}}"),
], 0, unit="ops")
ts("Errors", [
    ("sum(rate(idl_writer_db_errors_total[5m]))", "writer DB errors"),
    ("sum(rate(idl_processor_transactions_total{result=\"abort\"}[5m]))", "processor aborted transactions"),
    ("sum(rate(idl_collector_requests_total{code=~\"5..\"}[5m]))", "collector 5xx"),
    ("sum by (code) (rate(idl_gateway_errors_total[5m]))", "gateway {{code}}"),
    ("max(idl_writer_paused)", "writer paused"),
], 12, unit="ops")
y += 8
ts("Writer batch latency (first event read to commit)", [
    ("histogram_quantile(0.5, sum by (le) (rate(idl_writer_batch_latency_seconds_bucket[5m])))", "p50"),
    ("histogram_quantile(0.99, sum by (le) (rate(idl_writer_batch_latency_seconds_bucket[5m])))", "p99"),
], 0, unit="s")
ts("Processor batch time", [
    ("histogram_quantile(0.99, sum by (le) (rate(idl_processor_batch_seconds_bucket[5m])))", "p99"),
], 12, unit="s")
y += 8

row("Queries (gateway)")
ts("Query latency", [
    ("histogram_quantile(0.5, sum by (le, type) (rate(idl_gateway_request_seconds_bucket{type=~\"query|aggregate|top\"}[5m])))", "p50 {{type}}"),
    ("histogram_quantile(0.95, sum by (le, type) (rate(idl_gateway_request_seconds_bucket{type=~\"query|aggregate|top\"}[5m])))", "p95 {{type}}"),
], 0, unit="s")
ts("Requests, sessions and live tail", [
    ("sum by (type) (rate(idl_gateway_requests_total[1m]))", "{{type}}"),
    ("sum(idl_gateway_sessions)", "open sessions"),
    ("sum(rate(idl_gateway_tail_dropped_total[1m]))", "tail events dropped"),
    ("sum(rate(idl_gateway_auth_failures_total[5m]))", "auth failures"),
], 12)
y += 8

row("Targets")
ts("Scrape status (1 = up)", [("up{job=~\"idl-.*\"}", "{{job}} {{instance}}")], 0, w=24, h=6)

dashboard = {
    "uid": "instant-dev-logs", "title": "Instant Dev Logs", "tags": ["instant-dev-logs"],
    "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": False,
    "refresh": "30s", "time": {"from": "now-1h", "to": "now"},
    "templating": {"list": []}, "annotations": {"list": []}, "panels": panels,
}
out = pathlib.Path(__file__).resolve().parent / "dashboards" / "instant-dev-logs.json"
out.write_text(json.dumps(dashboard, indent=2) + "\n")
print(f"wrote {out} ({len(panels)} panels)")
