#include "LdapFaultRelay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <vector>

namespace certsync::testing {

namespace {

// One BER element's header at `at`: where its length bytes are, how many, and its content.
struct Header
{
    unsigned char tag = 0;
    qsizetype lengthAt = 0; // the first length octet
    qsizetype contentAt = 0;
    qsizetype contentLength = 0;
};

std::optional<Header> headerAt(const QByteArray &b, qsizetype at)
{
    if (at + 2 > b.size())
        return std::nullopt;
    Header h;
    h.tag = static_cast<unsigned char>(b.at(at));
    h.lengthAt = at + 1;
    const auto first = static_cast<unsigned char>(b.at(at + 1));
    if (first < 0x80) {
        h.contentLength = first;
        h.contentAt = at + 2;
    } else {
        const int n = first & 0x7f;
        if (n == 0 || n > 4 || at + 2 + n > b.size())
            return std::nullopt;
        qsizetype length = 0;
        for (int i = 0; i < n; ++i)
            length = (length << 8) | static_cast<unsigned char>(b.at(at + 2 + i));
        h.contentLength = length;
        h.contentAt = at + 2 + n;
    }
    return h;
}

// Makes the length at `lengthAt` claim gigabytes: a long form of four octets over what follows, or all
// of a long form's octets set. The element's real bytes stay where they were.
void claimTooMuch(QByteArray &b, qsizetype lengthAt)
{
    const auto first = static_cast<unsigned char>(b.at(lengthAt));
    if (first < 0x80) {
        b[lengthAt] = char(0x84); // the next four bytes, now a length: far more than the message holds
        return;
    }
    const int n = first & 0x7f;
    for (int i = 1; i <= n; ++i)
        b[lengthAt + i] = char(0xff);
}

} // namespace

LdapFaultRelay::LdapFaultRelay(QString serverHost, quint16 serverPort, QByteArray dnMarker, Fault fault,
                               QByteArray attribute)
    : m_host(std::move(serverHost))
    , m_serverPort(serverPort)
    , m_marker(std::move(dnMarker))
    , m_fault(fault)
    , m_attribute(std::move(attribute))
{ }

LdapFaultRelay::~LdapFaultRelay()
{
    if (m_thread.joinable()) {
        const char stop = 's';
        (void)::write(m_wake[1], &stop, 1);
        m_thread.join();
    }
    for (int fd : { m_listener, m_wake[0], m_wake[1] })
        if (fd >= 0)
            ::close(fd);
}

QString LdapFaultRelay::url() const
{
    return QStringLiteral("ldap://127.0.0.1:%1").arg(m_port);
}

bool LdapFaultRelay::start()
{
    if (::pipe(m_wake) != 0)
        return false;
    m_listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (m_listener < 0)
        return false;
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(m_listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
        || ::listen(m_listener, 8) != 0)
        return false;
    socklen_t size = sizeof address;
    if (::getsockname(m_listener, reinterpret_cast<sockaddr *>(&address), &size) != 0)
        return false;
    m_port = ntohs(address.sin_port);
    m_thread = std::thread([this] { run(); });
    return true;
}

bool LdapFaultRelay::damage(QByteArray &message, const QByteArray &dnMarker, Fault fault,
                            const QByteArray &attribute)
{
    const auto envelope = headerAt(message, 0);
    if (!envelope || envelope->tag != 0x30)
        return false;
    const auto messageId = headerAt(message, envelope->contentAt);
    if (!messageId || messageId->tag != 0x02)
        return false;
    const auto entry = headerAt(message, messageId->contentAt + messageId->contentLength);
    if (!entry || entry->tag != 0x64) // [APPLICATION 4] SearchResultEntry
        return false;
    const auto dn = headerAt(message, entry->contentAt);
    if (!dn || dn->tag != 0x04 || dn->contentAt + dn->contentLength > message.size()
        || !message.mid(dn->contentAt, dn->contentLength).contains(dnMarker))
        return false;
    if (fault == Fault::DnLength) {
        claimTooMuch(message, dn->lengthAt);
        return true;
    }
    const auto attributes = headerAt(message, dn->contentAt + dn->contentLength);
    if (!attributes || attributes->tag != 0x30)
        return false;
    const qsizetype end = attributes->contentAt + attributes->contentLength;
    for (qsizetype at = attributes->contentAt; at < end;) {
        const auto partial = headerAt(message, at);
        if (!partial || partial->tag != 0x30)
            return false;
        const auto type = headerAt(message, partial->contentAt);
        if (!type || type->tag != 0x04)
            return false;
        const QByteArray name = message.mid(type->contentAt, type->contentLength);
        if (name.compare(attribute, Qt::CaseInsensitive) == 0) {
            const auto values = headerAt(message, type->contentAt + type->contentLength);
            if (!values || values->tag != 0x31 || values->contentLength == 0)
                return false;
            const auto first = headerAt(message, values->contentAt);
            if (!first)
                return false;
            claimTooMuch(message, first->lengthAt);
            return true;
        }
        at = partial->contentAt + partial->contentLength;
    }
    return false;
}

void LdapFaultRelay::run()
{
    struct Pair
    {
        int client = -1;
        int server = -1;
        QByteArray fromServer; // bytes of a message not yet complete
    };
    std::vector<Pair> pairs;
    auto closePair = [](Pair &p) {
        ::close(p.client);
        ::close(p.server);
        p.client = p.server = -1;
    };
    for (;;) {
        std::vector<pollfd> fds { { m_wake[0], POLLIN, 0 }, { m_listener, POLLIN, 0 } };
        for (const Pair &p : pairs) {
            fds.push_back({ p.client, POLLIN, 0 });
            fds.push_back({ p.server, POLLIN, 0 });
        }
        if (::poll(fds.data(), fds.size(), -1) < 0)
            continue;
        if (fds[0].revents)
            break;
        const size_t polled = pairs.size(); // a pair accepted below is polled from the next round on
        if (fds[1].revents & POLLIN) {
            const int client = ::accept4(m_listener, nullptr, nullptr, SOCK_CLOEXEC);
            const int server = client < 0 ? -1 : ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address {};
            address.sin_family = AF_INET;
            address.sin_port = htons(m_serverPort);
            const QByteArray host = m_host.toLatin1();
            ::inet_pton(AF_INET, host.constData(), &address.sin_addr);
            if (server >= 0 && ::connect(server, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0)
                pairs.push_back({ client, server, {} });
            else {
                if (client >= 0)
                    ::close(client);
                if (server >= 0)
                    ::close(server);
            }
        }
        for (size_t i = 0; i < polled; ++i) {
            Pair &p = pairs[i];
            const short clientEvents = fds[2 + 2 * i].revents;
            const short serverEvents = fds[3 + 2 * i].revents;
            char buffer[65536];
            bool closed = false;
            if (clientEvents) { // requests pass as they are
                const ssize_t n = ::read(p.client, buffer, sizeof buffer);
                closed = n <= 0 || ::send(p.server, buffer, size_t(n), MSG_NOSIGNAL) != n;
            }
            if (!closed && serverEvents) {
                const ssize_t n = ::read(p.server, buffer, sizeof buffer);
                closed = n <= 0;
                if (!closed)
                    p.fromServer.append(buffer, n);
                // Whole messages only: each is looked at, perhaps damaged, and sent on.
                while (!closed) {
                    const auto envelope = headerAt(p.fromServer, 0);
                    if (!envelope || envelope->contentAt + envelope->contentLength > p.fromServer.size())
                        break;
                    QByteArray message = p.fromServer.left(envelope->contentAt + envelope->contentLength);
                    p.fromServer.remove(0, message.size());
                    if (damage(message, m_marker, m_fault, m_attribute))
                        ++m_damaged;
                    qsizetype sent = 0;
                    while (sent < message.size()) {
                        const ssize_t w = ::send(p.client, message.constData() + sent,
                                                 size_t(message.size() - sent), MSG_NOSIGNAL);
                        if (w <= 0) {
                            closed = true;
                            break;
                        }
                        sent += w;
                    }
                }
            }
            if (closed)
                closePair(p);
        }
        std::erase_if(pairs, [](const Pair &p) { return p.client < 0; });
    }
    for (Pair &p : pairs)
        closePair(p);
}

} // namespace certsync::testing
