#pragma once

// A TCP relay on loopback in front of an LDAP server that damages one search result entry on its way
// to the client, so that libldap cannot decode it while the stream stays in step (the LDAPMessage's
// own length is left as it was): what a faulty middlebox or a server bug would hand certsync. Plain
// LDAP only (no StartTLS: the relay must see the messages). Runs on a thread of its own, so that it
// serves a client in another process (the CLI) or on the test's thread alike.

#include <QByteArray>
#include <QString>

#include <atomic>
#include <thread>

namespace certsync::testing {

class LdapFaultRelay
{
public:
    enum class Fault {
        // The first value of the attribute `attribute` claims far more bytes than its set holds: the
        // attribute is cut short.
        ValueLength,
        // The entry's DN claims more bytes than the entry holds.
        DnLength,
    };
    // Damages each SearchResultEntry whose DN contains `dnMarker` (case-sensitive, as sent).
    LdapFaultRelay(QString serverHost, quint16 serverPort, QByteArray dnMarker, Fault fault,
                   QByteArray attribute = {});
    ~LdapFaultRelay();
    LdapFaultRelay(const LdapFaultRelay &) = delete;
    LdapFaultRelay &operator=(const LdapFaultRelay &) = delete;

    // Listens on 127.0.0.1 on a free port; false when it cannot.
    bool start();
    [[nodiscard]] quint16 port() const { return m_port; }
    [[nodiscard]] QString url() const;
    [[nodiscard]] int damaged() const { return m_damaged.load(); } // entries damaged so far

    // Damages one message if it is a matching SearchResultEntry; exposed for the relay's own checks.
    // Returns whether it did.
    static bool damage(QByteArray &message, const QByteArray &dnMarker, Fault fault,
                       const QByteArray &attribute);

private:
    void run();

    QString m_host;
    quint16 m_serverPort;
    QByteArray m_marker;
    Fault m_fault;
    QByteArray m_attribute;
    int m_listener = -1;
    int m_wake[2] = { -1, -1 }; // a pipe that ends the thread
    quint16 m_port = 0;
    std::atomic<int> m_damaged = 0;
    std::thread m_thread;
};

} // namespace certsync::testing
