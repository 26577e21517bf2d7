#include "idl/observability/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace idl::metrics {

namespace {

void atomicAdd(std::atomic<double> &a, double d) noexcept
{
    double cur = a.load(std::memory_order_relaxed);
    while (!a.compare_exchange_weak(cur, cur + d, std::memory_order_relaxed))
        ;
}

std::string formatValue(double v)
{
    if (std::isnan(v))
        return "NaN";
    if (std::isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

void appendEscaped(std::string &out, const std::string &s, bool help)
{
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && !help)
            out += "\\\"";
        else
            out += c;
    }
}

void appendLabels(std::string &out, const Labels &labels, const char *extraKey = nullptr,
                  const std::string &extraValue = {})
{
    if (labels.empty() && !extraKey)
        return;
    out += '{';
    bool first = true;
    for (const auto &[k, v] : labels) {
        if (!first)
            out += ',';
        first = false;
        out += k;
        out += "=\"";
        appendEscaped(out, v, false);
        out += '"';
    }
    if (extraKey) {
        if (!first)
            out += ',';
        out += extraKey;
        out += "=\"";
        out += extraValue;
        out += '"';
    }
    out += '}';
}

} // namespace

void Gauge::add(double d) noexcept
{
    atomicAdd(m_value, d);
}

Histogram::Histogram(std::vector<double> bounds)
    : m_bounds(std::move(bounds)),
      m_buckets(std::make_unique<std::atomic<std::uint64_t>[]>(m_bounds.size() + 1))
{
    if (!std::is_sorted(m_bounds.begin(), m_bounds.end()))
        throw std::logic_error("histogram bounds must be sorted");
    for (size_t i = 0; i <= m_bounds.size(); ++i)
        m_buckets[i].store(0);
}

void Histogram::observe(double v) noexcept
{
    const auto it = std::lower_bound(m_bounds.begin(), m_bounds.end(), v);
    m_buckets[static_cast<size_t>(it - m_bounds.begin())].fetch_add(1, std::memory_order_relaxed);
    atomicAdd(m_sum, v);
    m_count.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative() const
{
    std::vector<std::uint64_t> out(m_bounds.size() + 1);
    std::uint64_t run = 0;
    for (size_t i = 0; i <= m_bounds.size(); ++i) {
        run += m_buckets[i].load(std::memory_order_relaxed);
        out[i] = run;
    }
    return out;
}

std::vector<double> latencyBuckets()
{
    return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Registry &Registry::global()
{
    static Registry registry;
    return registry;
}

Registry::Series &Registry::series(const std::string &name, const std::string &help, Kind kind,
                                   const Labels &labels)
{
    std::lock_guard lock(m_mutex);
    auto [it, inserted] = m_families.try_emplace(name, Family{kind, help, {}});
    Family &f = it->second;
    if (!inserted && f.kind != kind)
        throw std::logic_error("metric registered with two kinds: " + name);
    for (auto &s : f.series)
        if (s->labels == labels)
            return *s;
    f.series.push_back(std::make_unique<Series>());
    f.series.back()->labels = labels;
    return *f.series.back();
}

Counter &Registry::counter(const std::string &name, const std::string &help, const Labels &labels)
{
    Series &s = series(name, help, Kind::Counter, labels);
    std::lock_guard lock(m_mutex);
    if (!s.counter)
        s.counter = std::make_unique<Counter>();
    return *s.counter;
}

Gauge &Registry::gauge(const std::string &name, const std::string &help, const Labels &labels)
{
    Series &s = series(name, help, Kind::Gauge, labels);
    std::lock_guard lock(m_mutex);
    if (!s.gauge)
        s.gauge = std::make_unique<Gauge>();
    return *s.gauge;
}

Histogram &Registry::histogram(const std::string &name, const std::string &help,
                               std::vector<double> bounds, const Labels &labels)
{
    Series &s = series(name, help, Kind::Histogram, labels);
    std::lock_guard lock(m_mutex);
    if (!s.histogram)
        s.histogram = std::make_unique<Histogram>(std::move(bounds));
    return *s.histogram;
}

void Registry::callbackGauge(const std::string &name, const std::string &help,
                             std::function<double()> read, const Labels &labels)
{
    Series &s = series(name, help, Kind::CallbackGauge, labels);
    std::lock_guard lock(m_mutex);
    s.read = std::move(read);
}

std::string Registry::exposition() const
{
    std::lock_guard lock(m_mutex);
    std::string out;
    out.reserve(4096);
    for (const auto &[name, f] : m_families) {
        out += "# HELP ";
        out += name;
        out += ' ';
        appendEscaped(out, f.help, true);
        out += "\n# TYPE ";
        out += name;
        switch (f.kind) {
        case Kind::Counter:
            out += " counter\n";
            break;
        case Kind::Gauge:
        case Kind::CallbackGauge:
            out += " gauge\n";
            break;
        case Kind::Histogram:
            out += " histogram\n";
            break;
        }
        for (const auto &s : f.series) {
            if (f.kind == Kind::Histogram && s->histogram) {
                const auto &h = *s->histogram;
                const auto cum = h.cumulative();
                for (size_t i = 0; i <= h.bounds().size(); ++i) {
                    out += name;
                    out += "_bucket";
                    appendLabels(out, s->labels, "le",
                                 i < h.bounds().size() ? formatValue(h.bounds()[i]) : "+Inf");
                    out += ' ';
                    out += std::to_string(cum[i]);
                    out += '\n';
                }
                out += name;
                out += "_sum";
                appendLabels(out, s->labels);
                out += ' ' + formatValue(h.sum()) + '\n';
                out += name;
                out += "_count";
                appendLabels(out, s->labels);
                out += ' ' + std::to_string(h.count()) + '\n';
                continue;
            }
            double v = 0;
            if (s->counter)
                v = static_cast<double>(s->counter->value());
            else if (s->gauge)
                v = s->gauge->value();
            else if (s->read)
                v = s->read();
            out += name;
            appendLabels(out, s->labels);
            out += ' ' + formatValue(v) + '\n';
        }
    }
    return out;
}

} // namespace idl::metrics
