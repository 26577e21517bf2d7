#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace idl::metrics {

// Label pairs of one time series, e.g. {{"code","202"}}. Order is kept as given.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count. Lock-free; safe from any thread.
class Counter
{
public:
    void inc(std::uint64_t n = 1) noexcept { m_value.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> m_value{0};
};

// A value that goes up and down. Lock-free; safe from any thread.
class Gauge
{
public:
    void set(double v) noexcept { m_value.store(v, std::memory_order_relaxed); }
    void add(double d) noexcept;
    double value() const noexcept { return m_value.load(std::memory_order_relaxed); }

private:
    std::atomic<double> m_value{0};
};

// A distribution over fixed upper bounds (Prometheus histogram). Lock-free observe().
class Histogram
{
public:
    explicit Histogram(std::vector<double> bounds);
    void observe(double v) noexcept;
    const std::vector<double> &bounds() const { return m_bounds; }
    // Cumulative counts per bound, then +Inf; and the sum of all observations.
    std::vector<std::uint64_t> cumulative() const;
    double sum() const noexcept { return m_sum.load(std::memory_order_relaxed); }
    std::uint64_t count() const noexcept { return m_count.load(std::memory_order_relaxed); }

private:
    std::vector<double> m_bounds;
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_buckets;
    std::atomic<double> m_sum{0};
    std::atomic<std::uint64_t> m_count{0};
};

// Default latency buckets in seconds (0.5 ms .. 10 s).
std::vector<double> latencyBuckets();

// All metrics of one process, rendered in the Prometheus text exposition format (0.0.4).
// Registration takes a lock and returns a reference that stays valid for the registry's
// life: look metrics up once, then update them lock-free on hot paths.
class Registry
{
public:
    // The process-wide registry that services expose on /metrics.
    static Registry &global();

    Counter &counter(const std::string &name, const std::string &help, const Labels &labels = {});
    Gauge &gauge(const std::string &name, const std::string &help, const Labels &labels = {});
    Histogram &histogram(const std::string &name, const std::string &help,
                         std::vector<double> bounds = latencyBuckets(), const Labels &labels = {});
    // A gauge computed when scraped (queue depth, lag). The callback runs on the scraping thread.
    void callbackGauge(const std::string &name, const std::string &help,
                       std::function<double()> read, const Labels &labels = {});

    // Text exposition of every registered series.
    std::string exposition() const;

private:
    enum class Kind { Counter, Gauge, Histogram, CallbackGauge };
    struct Series
    {
        Labels labels;
        std::unique_ptr<Counter> counter;
        std::unique_ptr<Gauge> gauge;
        std::unique_ptr<Histogram> histogram;
        std::function<double()> read;
    };
    struct Family
    {
        Kind kind;
        std::string help;
        std::vector<std::unique_ptr<Series>> series;
    };
    Series &series(const std::string &name, const std::string &help, Kind kind,
                   const Labels &labels);

    mutable std::mutex m_mutex;
    std::map<std::string, Family> m_families;
};

} // namespace idl::metrics
