#include "idl/loadgen/ack_ledger.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace idl::loadgen {

void RangeSet::add(std::uint64_t first, std::uint64_t count)
{
    if (count == 0)
        return;
    if (!m_ranges.empty() && m_ranges.back().last + 1 == first) {
        m_ranges.back().last = first + count - 1;
        return;
    }
    m_ranges.push_back({first, first + count - 1});
}

void RangeSet::merge(const RangeSet &other)
{
    m_ranges.insert(m_ranges.end(), other.m_ranges.begin(), other.m_ranges.end());
}

void RangeSet::normalize()
{
    std::sort(m_ranges.begin(), m_ranges.end(),
              [](const SeqRange &a, const SeqRange &b) { return a.first < b.first; });
    std::vector<SeqRange> out;
    for (const SeqRange &r : m_ranges) {
        if (!out.empty() && r.first <= out.back().last + 1)
            out.back().last = std::max(out.back().last, r.last);
        else
            out.push_back(r);
    }
    m_ranges = std::move(out);
}

std::uint64_t RangeSet::count() const
{
    std::uint64_t n = 0;
    for (const SeqRange &r : m_ranges)
        n += r.size();
    return n;
}

Result<void> AckLedger::save(const std::string &path, const std::vector<AckLedger> &ledgers)
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        if (!out)
            return makeError(ErrorCode::Internal, "cannot write " + tmp);
        out << "idl-loadgen-acked 1\n";
        for (const AckLedger &l : ledgers) {
            out << "generator " << l.generatorId << ' ' << l.nextSeq << '\n';
            for (const SeqRange &r : l.acked.ranges())
                out << "acked " << l.generatorId << ' ' << r.first << ' ' << r.last << '\n';
            for (const SeqRange &r : l.maybe.ranges())
                out << "maybe " << l.generatorId << ' ' << r.first << ' ' << r.last << '\n';
        }
        out.flush();
        if (!out)
            return makeError(ErrorCode::Internal, "cannot write " + tmp);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
        return makeError(ErrorCode::Internal, "cannot rename " + tmp + " to " + path);
    return {};
}

Result<std::vector<AckLedger>> AckLedger::load(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        return makeError(ErrorCode::NotFound, "cannot read " + path);
    std::vector<AckLedger> ledgers;
    std::map<std::string, std::size_t> index;
    const auto ledgerFor = [&](const std::string &id) -> AckLedger & {
        auto [it, inserted] = index.try_emplace(id, ledgers.size());
        if (inserted) {
            ledgers.emplace_back();
            ledgers.back().generatorId = id;
        }
        return ledgers[it->second];
    };
    std::string line;
    int lineNo = 0;
    bool header = false;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream ls(line);
        std::string kind;
        std::string id;
        ls >> kind;
        if (!header) {
            int version = 0;
            ls >> version;
            if (kind != "idl-loadgen-acked" || version != 1)
                return makeError(ErrorCode::BadRequest, path + ": not an idl-loadgen acked file");
            header = true;
            continue;
        }
        const auto bad = [&] {
            return makeError(ErrorCode::BadRequest,
                             path + ":" + std::to_string(lineNo) + ": bad line");
        };
        if (kind == "generator") {
            std::uint64_t next = 0;
            if (!(ls >> id >> next))
                return bad();
            ledgerFor(id).nextSeq = std::max(ledgerFor(id).nextSeq, next);
        } else if (kind == "acked" || kind == "maybe") {
            std::uint64_t first = 0;
            std::uint64_t last = 0;
            if (!(ls >> id >> first >> last) || last < first)
                return bad();
            AckLedger &l = ledgerFor(id);
            (kind == "acked" ? l.acked : l.maybe).add(first, last - first + 1);
        } else {
            return bad();
        }
    }
    if (!header)
        return makeError(ErrorCode::BadRequest, path + ": empty acked file");
    for (AckLedger &l : ledgers) {
        l.acked.normalize();
        l.maybe.normalize();
    }
    return ledgers;
}

} // namespace idl::loadgen
