"""Drives the collector with the official Elasticsearch Python client (elasticsearch 8.x,
unchanged): its start-up checks (info, ping, the X-Elastic-Product header it verifies on the
first answer), helpers.bulk with ApiKey and Basic credentials, per-item errors, and a wrong key.

Usage: es_client_bulk.py URL API_KEY MARKER COUNT [GENERATOR]
With GENERATOR the bulk documents are stamped now (instead of a fixed day in 2024) and carry
loadgen.id = GENERATOR and loadgen.seq = i, the identity idl-check counts (docs/e2e.md).
Prints one JSON object with what happened; exits 0 only if every expectation held.
"""
import datetime
import json
import sys

from elasticsearch import AuthenticationException, Elasticsearch, helpers


def main():
    url, key, marker, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    generator = sys.argv[5] if len(sys.argv) > 5 else None
    report = {}
    problems = []

    # ApiKey base64(id:key): what the client sends for api_key=(id, key).
    es = Elasticsearch(url, api_key=("shipper-test", key), request_timeout=20)
    info = es.info()
    report["version"] = info["version"]["number"]
    report["ping"] = es.ping()
    if not report["ping"]:
        problems.append("ping (HEAD /) failed")

    def source(i):
        doc = {"@timestamp": "2024-05-01T10:00:00.%03dZ" % (i % 1000),
               "message": "%s-%d" % (marker, i),
               "log": {"level": "warn"},
               "host": {"name": "es-host"},
               "n": i}
        if generator:
            now = datetime.datetime.now(datetime.timezone.utc)
            doc["@timestamp"] = now.isoformat(timespec="microseconds").replace("+00:00", "Z")
            doc.update({"loadgen.id": generator, "loadgen.seq": i})
        return doc

    actions = [{"_index": "logs-esclient-default", "_source": source(i)} for i in range(count)]
    ok, errors = helpers.bulk(es, actions, chunk_size=max(1, count // 3))
    report["bulk_ok"] = ok
    if ok != count or errors:
        problems.append("bulk: %r ok, errors %r" % (ok, errors))

    # Basic auth (password = the key), one document with an explicit _id; per-item errors
    # for a bad date and a delete, the good one kept.
    es_basic = Elasticsearch(url, basic_auth=("elastic", key), request_timeout=20)
    ok2, errors2 = helpers.bulk(es_basic, [
        {"_index": "logs-esclient-default", "_id": "doc-1",
         "_source": {"message": "%s-basic" % marker}},
        {"_index": "logs-esclient-default",
         "_source": {"message": "%s-baddate" % marker, "@timestamp": "not a date"}},
        {"_op_type": "delete", "_index": "logs-esclient-default", "_id": "doc-1"},
    ], raise_on_error=False)
    report["mixed_ok"] = ok2
    report["mixed_errors"] = [list(e.values())[0].get("status") for e in errors2]
    if ok2 != 1 or sorted(report["mixed_errors"]) != [400, 400]:
        problems.append("mixed batch: %r ok, errors %r" % (ok2, errors2))

    # A wrong key: the client raises AuthenticationException (401).
    bad = Elasticsearch(url, api_key=("shipper-test", "idl_wrongwrongwr_" + "x" * 40),
                        request_timeout=20)
    try:
        bad.info()
        problems.append("a wrong key was accepted")
    except AuthenticationException:
        report["wrong_key"] = 401

    report["problems"] = problems
    print(json.dumps(report))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
