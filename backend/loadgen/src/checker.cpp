#include "idl/loadgen/checker.h"

#include "idl/loadgen/event_factory.h"
#include "idl/pg/connection.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cctype>
#include <charconv>
#include <thread>
#include <unordered_map>

namespace idl::loadgen {

namespace {

// Generator ids go into a text[] parameter literal: keep them to characters that need no
// quoting there.
Result<std::string> idArray(const std::vector<std::string> &ids)
{
    std::string out = "{";
    for (const std::string &id : ids) {
        if (id.empty())
            return makeError(ErrorCode::BadRequest, "empty generator id");
        for (const char c : id)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
                return makeError(ErrorCode::BadRequest, "generator id '" + id +
                                                            "' has characters other than "
                                                            "[A-Za-z0-9._-]");
        if (out.size() > 1)
            out += ',';
        out += id;
    }
    out += '}';
    return out;
}

std::vector<std::string> idsOf(const std::vector<AckLedger> &ledgers)
{
    std::vector<std::string> ids;
    for (const AckLedger &l : ledgers)
        ids.push_back(l.generatorId);
    return ids;
}

const std::string &whereClause()
{
    static const std::string w = "attrs->>'" + std::string(kGeneratorAttr) + "' = ANY($1::text[])";
    return w;
}

} // namespace

Result<std::uint64_t> countStored(pg::Connection &connection, const std::vector<std::string> &ids)
{
    auto array = idArray(ids);
    if (!array)
        return array.error();
    auto rows = connection.query("SELECT count(*) FROM logs WHERE " + whereClause(), {*array});
    if (!rows)
        return rows.error();
    std::uint64_t n = 0;
    const auto v = rows->value(0, 0);
    std::from_chars(v.data(), v.data() + v.size(), n);
    return n;
}

Result<std::uint64_t> waitForRows(pg::Connection &connection, const std::vector<AckLedger> &ledgers,
                                  std::chrono::milliseconds timeout,
                                  std::chrono::milliseconds settle)
{
    using Clock = std::chrono::steady_clock;
    std::uint64_t acked = 0;
    for (const AckLedger &l : ledgers)
        acked += l.acked.count();
    const auto ids = idsOf(ledgers);
    const auto deadline = Clock::now() + timeout;
    std::uint64_t last = 0;
    auto lastChange = Clock::now();
    bool reached = false;
    for (;;) {
        auto n = countStored(connection, ids);
        if (!n)
            return n.error();
        const auto now = Clock::now();
        if (*n != last) {
            last = *n;
            lastChange = now;
        } else if (reached || now - lastChange >= settle) {
            return last; // stable at or above the target (or stuck below it)
        }
        reached = last >= acked;
        if (now >= deadline)
            return last;
        std::this_thread::sleep_for(reached ? std::chrono::milliseconds(1000)
                                            : std::chrono::milliseconds(500));
    }
}

Result<CheckReport> checkStored(pg::Connection &connection, const std::vector<AckLedger> &ledgers)
{
    enum : std::uint8_t { None = 0, Acked = 1, Maybe = 2 };
    struct Book
    {
        const AckLedger *ledger;
        std::vector<std::uint8_t> kind;
        std::vector<std::uint8_t> seen;
    };
    std::vector<Book> books;
    std::unordered_map<std::string, std::size_t> index;
    CheckReport report;
    for (const AckLedger &l : ledgers) {
        Book b{&l, std::vector<std::uint8_t>(l.nextSeq, None),
               std::vector<std::uint8_t>(l.nextSeq, 0)};
        for (const SeqRange &r : l.maybe.ranges())
            for (std::uint64_t s = r.first; s <= r.last && s < l.nextSeq; ++s)
                b.kind[s] = Maybe;
        for (const SeqRange &r : l.acked.ranges())
            for (std::uint64_t s = r.first; s <= r.last && s < l.nextSeq; ++s)
                b.kind[s] = Acked;
        report.acked += l.acked.count();
        index.emplace(l.generatorId, books.size());
        books.push_back(std::move(b));
    }
    auto array = idArray(idsOf(ledgers));
    if (!array)
        return array.error();
    if (auto r = connection.begin(); !r)
        return r.error();
    const std::string declare = "DECLARE idl_check NO SCROLL CURSOR FOR SELECT attrs->>'" +
                                std::string(kGeneratorAttr) + "', attrs->>'" +
                                std::string(kSequenceAttr) + "' FROM logs WHERE " + whereClause();
    if (auto r = connection.query(declare, {*array}); !r) {
        (void)connection.rollback();
        return r.error();
    }
    for (;;) {
        auto rows = connection.query("FETCH 200000 FROM idl_check");
        if (!rows) {
            (void)connection.rollback();
            return rows.error();
        }
        const int n = rows->rowCount();
        for (int i = 0; i < n; ++i) {
            ++report.rows;
            const auto it = index.find(std::string(rows->value(i, 0)));
            if (it == index.end())
                continue;
            Book &b = books[it->second];
            const auto text = rows->value(i, 1);
            std::uint64_t seq = 0;
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
            if (ec != std::errc() || end != text.data() + text.size() || seq >= b.kind.size()) {
                ++report.unexpected;
                if (report.examples.size() < 10)
                    report.examples.push_back("unexpected " + it->first + ":" + std::string(text));
                continue;
            }
            if (b.seen[seq] < 255)
                ++b.seen[seq];
        }
        if (n == 0)
            break;
    }
    (void)connection.rollback();
    for (const Book &b : books) {
        for (std::size_t s = 0; s < b.kind.size(); ++s) {
            const unsigned seen = b.seen[s];
            const auto example = [&](const char *what) {
                if (report.examples.size() < 10)
                    report.examples.push_back(std::string(what) + " " + b.ledger->generatorId +
                                              ":" + std::to_string(s) +
                                              (seen > 1 ? " x" + std::to_string(seen) : ""));
            };
            switch (b.kind[s]) {
            case Acked:
                if (seen == 0) {
                    ++report.lost;
                    example("lost");
                }
                break;
            case Maybe:
                (seen ? report.maybeStored : report.maybeMissing) += 1;
                break;
            default:
                if (seen) {
                    report.unexpected += seen;
                    example("unexpected");
                }
                continue;
            }
            if (seen > 1) {
                report.duplicated += seen - 1;
                example("duplicated");
            }
        }
    }
    return report;
}

std::string CheckReport::text() const
{
    std::string s = "rows " + std::to_string(rows) + ", acked " + std::to_string(acked) +
                    ", lost " + std::to_string(lost) + ", duplicated " +
                    std::to_string(duplicated) + ", unexpected " + std::to_string(unexpected) +
                    ", uncertain stored " + std::to_string(maybeStored) + ", uncertain missing " +
                    std::to_string(maybeMissing) + "\n";
    for (const std::string &e : examples)
        s += "  " + e + "\n";
    s +=
        ok() ? "verdict: OK (every acknowledged event stored exactly once)\n" : "verdict: FAILED\n";
    return s;
}

std::string CheckReport::json() const
{
    QJsonObject o;
    o.insert(QStringLiteral("rows"), static_cast<qint64>(rows));
    o.insert(QStringLiteral("acked"), static_cast<qint64>(acked));
    o.insert(QStringLiteral("lost"), static_cast<qint64>(lost));
    o.insert(QStringLiteral("duplicated"), static_cast<qint64>(duplicated));
    o.insert(QStringLiteral("unexpected"), static_cast<qint64>(unexpected));
    o.insert(QStringLiteral("uncertain_stored"), static_cast<qint64>(maybeStored));
    o.insert(QStringLiteral("uncertain_missing"), static_cast<qint64>(maybeMissing));
    QJsonArray ex;
    for (const std::string &e : examples)
        ex.append(QString::fromStdString(e));
    o.insert(QStringLiteral("examples"), ex);
    o.insert(QStringLiteral("ok"), ok());
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

} // namespace idl::loadgen
