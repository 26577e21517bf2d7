// idl-collector-load: a separate load process for the collector benchmark. Sends the same
// NDJSON batch (N events of about B bytes each) over C keep-alive HTTP/1.1 connections for
// S seconds and prints one JSON line with the counts and the accepted events per second.
// With --body-file, that body (of --batch events) is sent instead, to --path with
// --content-type, and --ok-status counts as accepted (OTLP/HTTP: /v1/logs, 200).
//
//   idl-collector-load --port P --key KEY [--connections 4] [--seconds 15] [--batch 1000]
//                      [--event-bytes 200]
//   idl-collector-load --syslog-port P [--connections 4] [--seconds 15] [--event-bytes 200]
// The second form sends the same events as RFC 5424 messages with octet counting over
// syslog TCP connections (no replies: TCP back-pressure is all the pacing there is) and
// prints the messages written.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options
{
    int port = 0;
    std::string key;
    int connections = 4;
    double seconds = 15;
    int batch = 1000;
    int eventBytes = 200;
    std::string bodyFile; // a prepared body instead of the native NDJSON
    std::string path = "/api/v1/logs";
    std::string contentType = "application/x-ndjson";
    int okStatus = 202;
    int syslogPort = 0;
};

// One event of exactly `size` bytes (the message is padded), as an application would send it.
std::string event(int i, int size)
{
    std::string e = "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"info\",\"app\":\"bench\","
                    "\"host\":\"load-1\",\"attrs\":{\"user\":\"u" +
                    std::to_string(i % 1000) + "\",\"path\":\"/api/orders\"},\"message\":\"req " +
                    std::to_string(i) + " ";
    const std::size_t tail = 2; // "}
    if (e.size() + tail < static_cast<std::size_t>(size))
        e.append(static_cast<std::size_t>(size) - e.size() - tail, 'x');
    e += "\"}";
    return e;
}

bool sendAll(int fd, const std::string &data)
{
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads one response; returns its status (0 on a broken connection).
int readResponse(int fd, std::string &buf)
{
    buf.clear();
    char tmp[16384];
    std::size_t headerEnd = std::string::npos;
    std::size_t length = 0;
    for (;;) {
        if (headerEnd == std::string::npos) {
            headerEnd = buf.find("\r\n\r\n");
            if (headerEnd != std::string::npos) {
                std::string lower = buf.substr(0, headerEnd);
                for (char &c : lower)
                    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                const auto cl = lower.find("content-length:");
                length = cl == std::string::npos
                             ? 0
                             : std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
            }
        }
        if (headerEnd != std::string::npos && buf.size() >= headerEnd + 4 + length)
            return std::atoi(buf.c_str() + 9);
        const ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0)
            return 0;
        buf.append(tmp, static_cast<std::size_t>(n));
    }
}

int connectTo(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

// The same event as an RFC 5424 message (attributes as structured data), octet-counted,
// about `size` bytes long.
std::string syslogFrame(int i, int size)
{
    std::string m = "<14>1 2024-05-01T12:00:00.123Z load-1 bench - - [attrs user=\"u" +
                    std::to_string(i % 1000) + "\" path=\"/api/orders\"] req " + std::to_string(i) +
                    " ";
    if (m.size() + 4 < static_cast<std::size_t>(size))
        m.append(static_cast<std::size_t>(size) - m.size() - 4, 'x');
    return std::to_string(m.size()) + " " + m;
}

int runSyslog(const Options &o)
{
    std::string chunk;
    const int perChunk = 1000;
    for (int i = 0; i < perChunk; ++i)
        chunk += syslogFrame(i, o.eventBytes);
    std::atomic<long long> events{0}, broken{0};
    std::atomic<bool> stop{false};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < o.connections; ++c)
        threads.emplace_back([&] {
            const int fd = connectTo(o.syslogPort);
            if (fd < 0) {
                ++broken;
                return;
            }
            while (!stop.load(std::memory_order_relaxed)) {
                if (!sendAll(fd, chunk)) {
                    ++broken;
                    break;
                }
                events += perChunk;
            }
            ::close(fd);
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    stop = true;
    for (auto &t : threads)
        t.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"events\":%lld,\"broken\":%lld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
                "\"event_bytes\":%zu,\"connections\":%d}\n",
                events.load(), broken.load(), elapsed, static_cast<double>(events.load()) / elapsed,
                chunk.size() / perChunk, o.connections);
    return events.load() > 0 && broken.load() == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const char *v = argv[i + 1];
        if (k == "--port")
            o.port = std::atoi(v);
        else if (k == "--key")
            o.key = v;
        else if (k == "--connections")
            o.connections = std::atoi(v);
        else if (k == "--seconds")
            o.seconds = std::atof(v);
        else if (k == "--batch")
            o.batch = std::atoi(v);
        else if (k == "--event-bytes")
            o.eventBytes = std::atoi(v);
        else if (k == "--body-file")
            o.bodyFile = v;
        else if (k == "--path")
            o.path = v;
        else if (k == "--content-type")
            o.contentType = v;
        else if (k == "--ok-status")
            o.okStatus = std::atoi(v);
        else if (k == "--syslog-port")
            o.syslogPort = std::atoi(v);
    }
    if (o.syslogPort > 0)
        return runSyslog(o);
    if (o.port <= 0 || o.key.empty()) {
        std::fprintf(stderr, "usage: idl-collector-load --port P --key KEY [--connections C] "
                             "[--seconds S] [--batch N] [--event-bytes B]\n");
        return 2;
    }
    std::string body;
    if (!o.bodyFile.empty()) {
        FILE *f = std::fopen(o.bodyFile.c_str(), "rb");
        if (!f) {
            std::fprintf(stderr, "cannot read %s\n", o.bodyFile.c_str());
            return 2;
        }
        char chunk[65536];
        std::size_t n = 0;
        while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
            body.append(chunk, n);
        std::fclose(f);
    } else {
        for (int i = 0; i < o.batch; ++i) {
            body += event(i, o.eventBytes);
            body += '\n';
        }
    }
    const std::string request = "POST " + o.path +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                "Authorization: Bearer " +
                                o.key + "\r\nContent-Type: " + o.contentType +
                                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                                body;

    std::atomic<long long> ok{0}, other{0}, broken{0}, events{0};
    std::atomic<bool> stop{false};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < o.connections; ++c)
        threads.emplace_back([&] {
            std::string buf;
            int fd = connectTo(o.port);
            while (!stop.load(std::memory_order_relaxed)) {
                if (fd < 0) {
                    ++broken;
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                    fd = connectTo(o.port);
                    continue;
                }
                if (!sendAll(fd, request)) {
                    ::close(fd);
                    fd = -1;
                    continue;
                }
                const int status = readResponse(fd, buf);
                if (status == o.okStatus) {
                    ++ok;
                    events += o.batch;
                } else if (status == 0) {
                    ::close(fd);
                    fd = -1;
                } else {
                    ++other;
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                }
            }
            if (fd >= 0)
                ::close(fd);
        });
    std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
    stop = true;
    for (auto &t : threads)
        t.join();
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("{\"requests_ok\":%lld,\"requests_other\":%lld,\"broken\":%lld,\"events\":%lld,"
                "\"seconds\":%.3f,\"events_per_s\":%.0f,\"event_bytes\":%zu,\"batch\":%d,"
                "\"connections\":%d}\n",
                ok.load(), other.load(), broken.load(), events.load(), elapsed,
                static_cast<double>(events.load()) / elapsed, body.size() / o.batch, o.batch,
                o.connections);
    return ok.load() > 0 ? 0 : 1;
}
