#include "idl/console/histogram_data.h"

#include <cmath>

#include <QJsonArray>

namespace idl::console {

namespace {

qint64 nsValue(const QJsonValue &v)
{
    return v.isString() ? v.toString().toLongLong() : static_cast<qint64>(v.toDouble());
}

} // namespace

HistogramData HistogramData::fromJson(const QJsonObject &msg)
{
    HistogramData h;
    h.bucketMs = msg.value(QLatin1String("bucket_ms")).toInteger();
    h.fromNs = nsValue(msg.value(QLatin1String("from")));
    h.toNs = nsValue(msg.value(QLatin1String("to")));
    h.source = msg.value(QLatin1String("source")).toString();
    h.total = msg.value(QLatin1String("total")).toInteger();
    for (const auto &k : msg.value(QLatin1String("keys")).toArray())
        h.keys << k.toString();
    const QJsonArray buckets = msg.value(QLatin1String("buckets")).toArray();
    h.buckets.reserve(static_cast<size_t>(buckets.size()));
    for (const auto &bv : buckets) {
        const QJsonObject b = bv.toObject();
        Bucket bucket;
        bucket.tNs = nsValue(b.value(QLatin1String("t")));
        const QJsonObject counts = b.value(QLatin1String("counts")).toObject();
        for (auto it = counts.begin(); it != counts.end(); ++it) {
            bucket.counts.insert(it.key(), it.value().toInteger());
            if (!h.keys.contains(it.key()))
                h.keys << it.key();
        }
        h.buckets.push_back(std::move(bucket));
    }
    return h;
}

qint64 HistogramData::totalFor(const QString &key) const
{
    qint64 sum = 0;
    for (const auto &b : buckets)
        sum += b.counts.value(key);
    return sum;
}

qint64 HistogramData::maxStacked() const
{
    qint64 best = 0;
    for (const auto &b : buckets) {
        qint64 s = 0;
        for (auto it = b.counts.cbegin(); it != b.counts.cend(); ++it)
            s += it.value();
        best = qMax(best, s);
    }
    return best;
}

QStringList HistogramData::nonEmptyKeys() const
{
    QStringList out;
    for (const auto &k : keys) {
        if (totalFor(k) > 0)
            out << k;
    }
    return out;
}

protocol::Aggregate aggregateRequest(const QString &q, qint64 fromNs, qint64 toNs,
                                     const QString &split, qint64 bucketMs, int maxSeries)
{
    protocol::Aggregate req;
    req.q = q.toStdString();
    req.range = {std::to_string(fromNs), std::to_string(toNs)};
    req.split = split.toStdString();
    req.bucketMs = qMax<qint64>(0, bucketMs);
    if (split == u"app")
        req.maxSeries = maxSeries;
    return req;
}

NiceScale niceScale(double largest, int maxTicks)
{
    NiceScale s;
    maxTicks = qMax(1, maxTicks);
    largest = qMax(1.0, largest);
    const double raw = largest / maxTicks;
    double magnitude = 1;
    while (magnitude * 10 <= raw)
        magnitude *= 10;
    for (const double m : {1.0, 2.0, 5.0, 10.0}) {
        if (m * magnitude >= raw) {
            s.step = m * magnitude;
            break;
        }
    }
    // magnitude >= 1, so the step is a whole count; ceil keeps max >= largest.
    s.max = std::ceil(largest / s.step) * s.step;
    s.ticks = static_cast<int>(std::lround(s.max / s.step)) + 1;
    return s;
}

QList<TopItem> topItemsFromJson(const QJsonObject &msg)
{
    QList<TopItem> items;
    for (const auto &v : msg.value(QLatin1String("items")).toArray()) {
        const QJsonObject o = v.toObject();
        items.append(TopItem{o.value(QLatin1String("value")).toString(),
                             o.value(QLatin1String("count")).toInteger()});
    }
    return items;
}

} // namespace idl::console
