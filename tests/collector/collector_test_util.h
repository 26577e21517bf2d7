#pragma once

// Helpers shared by the collector tests: gzip/zstd encoding of test bodies.
#include <zlib.h>
#include <zstd.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace idl::collectortest {

// gzip (RFC 1952) of `data`.
inline std::string gzip(std::string_view data, int level = 6)
{
    z_stream zs{};
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 64, '\0');
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef *>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        throw std::runtime_error("deflate");
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

// gzip of `size` zero bytes, produced in chunks (a decompression bomb: ~1000:1).
inline std::string gzipZeros(std::size_t size)
{
    z_stream zs{};
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2");
    std::string zeros(1 << 20, '\0');
    std::string out;
    char buf[1 << 16];
    std::size_t left = size;
    while (true) {
        const std::size_t n = std::min(left, zeros.size());
        zs.next_in = reinterpret_cast<Bytef *>(zeros.data());
        zs.avail_in = static_cast<uInt>(n);
        left -= n;
        const int flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        int rc = Z_OK;
        do {
            zs.next_out = reinterpret_cast<Bytef *>(buf);
            zs.avail_out = sizeof buf;
            rc = deflate(&zs, flush);
            out.append(buf, sizeof buf - zs.avail_out);
        } while (zs.avail_out == 0);
        if (left == 0 && rc == Z_STREAM_END)
            break;
    }
    deflateEnd(&zs);
    return out;
}

// zstd frame of `data`.
inline std::string zstd(std::string_view data, int level = 3)
{
    std::string out(ZSTD_compressBound(data.size()), '\0');
    const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
    if (ZSTD_isError(n))
        throw std::runtime_error("ZSTD_compress");
    out.resize(n);
    return out;
}

} // namespace idl::collectortest
