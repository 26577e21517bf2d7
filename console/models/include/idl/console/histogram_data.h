#pragma once

#include "idl/protocol/requests.h"

#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <vector>

namespace idl::console {

// Counts per time bucket split by level or app: the `aggregate.result` of the gateway
// (protocol 3.2), ready for a stacked chart. Plain value type.
struct HistogramData
{
    // One bucket: start time and counts per key (absent keys are 0).
    struct Bucket
    {
        qint64 tNs = 0;
        QHash<QString, qint64> counts;
    };

    qint64 bucketMs = 0;
    qint64 fromNs = 0;
    qint64 toNs = 0;
    QString source; // "rollup" or "raw"
    QStringList keys;
    std::vector<Bucket> buckets;
    qint64 total = 0;

    static HistogramData fromJson(const QJsonObject &msg);
    // Sum over all buckets of one key.
    qint64 totalFor(const QString &key) const;
    // Largest stacked bucket (sum of every key).
    qint64 maxStacked() const;
    // Keys that have at least one non-zero count, in `keys` order.
    QStringList nonEmptyKeys() const;
};

// The `aggregate` request for a query and an absolute range (ns); bucketMs 0 lets the
// gateway choose.
protocol::Aggregate aggregateRequest(const QString &q, qint64 fromNs, qint64 toNs,
                                     const QString &split = QStringLiteral("level"),
                                     qint64 bucketMs = 0, int maxSeries = 10);

// One row of a `top.result`.
struct TopItem
{
    QString value;
    qint64 count = 0;
};

// Parses `top.result` items.
QList<TopItem> topItemsFromJson(const QJsonObject &msg);

// A count axis with round ticks: from 0 to `max` in steps of `step`, where step is 1, 2 or 5
// times a power of ten, max a multiple of it at or above the largest value, and there are at
// most `maxTicks` intervals (0, 100, 200, 300, 400 rather than 0, 115, 230, 345).
struct NiceScale
{
    double max = 1;
    double step = 1;
    int ticks = 2; // tick marks including 0 and max
};
NiceScale niceScale(double largest, int maxTicks = 5);

} // namespace idl::console
