#pragma once

#include "core/Result.h"
#include "directory/ConnectionProfile.h"

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <optional>

#include <ldap.h>

namespace certsync::directory {

// One owner per libldap handle; nothing here frees an LDAP object by hand.
struct LdapUnbind
{
    void operator()(LDAP *ld) const noexcept { ldap_unbind_ext_s(ld, nullptr, nullptr); }
};
using LdapPtr = std::unique_ptr<LDAP, LdapUnbind>;
struct LdapMessageFree
{
    void operator()(LDAPMessage *m) const noexcept { ldap_msgfree(m); }
};
using LdapMessagePtr = std::unique_ptr<LDAPMessage, LdapMessageFree>;

// One entry as read: attribute names lower-cased and without options ("usercertificate" for
// "userCertificate;binary"), values as the raw bytes the server sent.
struct LdapEntry
{
    struct Attribute
    {
        QString key; // key(name): every option of the name and its case are gone
        QList<QByteArray> values;
    };
    QString dn;
    // Empty when the entry was decoded completely. Otherwise libldap's error (a BER decoding failure,
    // no DN, an attribute cut short): `attributes` is then empty, never a part of the entry, and `dn`
    // is set when the DN itself could be read.
    QString unreadable;
    // In the order the server sent them. A list, not a hash: an entry holds the dozen attributes
    // asked for, and a hash's buckets cost more to make and free than a short scan costs to search.
    QList<Attribute> attributes;

    [[nodiscard]] QList<QByteArray> values(const QString &name) const;
    [[nodiscard]] QByteArray first(const QString &name) const;
    [[nodiscard]] QString text(const QString &name) const; // first value as UTF-8
    static QString key(const QString &attributeName); // the lookup form of a name
};

struct SearchRequest
{
    enum class Scope { Base, OneLevel, Subtree };
    QString base;
    Scope scope = Scope::Subtree;
    QString filter = QStringLiteral("(objectClass=*)");
    QStringList attributes;
    int pageSize = 500; // 0: no paged results control (RootDSE and single-entry reads)
};

struct SearchStats
{
    qint64 entries = 0;
    int pages = 0;
    qint64 referencesSkipped = 0; // continuation references not chased
    // Entries libldap could not decode completely (LdapEntry::unreadable set, no attributes). Not in
    // `entries` and never handed to the page sink: a shorter entry would look like a user with fewer
    // values.
    QList<LdapEntry> unreadable;
};

// The server's TLS certificate as seen during the handshake.
struct ServerCertificate
{
    QByteArray der;
    QString subject;
    QString sha256Hex; // lowercase, no separators
    [[nodiscard]] QString describe() const; // "subject CN=..., SHA-256 ab:cd:..."
};

// Called with each page of entries as it completes; reading goes on while the caller works.
using PageSink = std::function<void(QList<LdapEntry> &&page)>;
// Polled while waiting for the server: true stops the search (the operation is abandoned).
using CancelCheck = std::function<bool()>;

// A bound connection to one directory server. Not thread-safe: use it from one thread at a time
// (libldap handles may move between threads, but never be used by two at once).
//
// Error codes, for branching and tests: config, unreachable, tls, bad_credentials,
// strong_auth_required, no_kerberos, insufficient_rights, limit, timeout, server_gone, canceled,
// no_such_object, value_exists, value_not_present, changed_meanwhile, unreadable_entry (libldap could
// not decode an entry the server sent), ldap (anything else).
class LdapConnection
{
public:
    static Result<std::unique_ptr<LdapConnection>> open(const ConnectionProfile &profile,
                                                        const QString &password);
    ~LdapConnection();

    // Asynchronous paged search (RFC 2696). Waits in short slices so that `canceled` is honoured
    // within about 100 ms and a silent server is given up after the profile's operation timeout.
    Result<SearchStats> search(const SearchRequest &request, const PageSink &sink,
                               const CancelCheck &canceled = {});
    // One entry by DN (base scope); the empty DN reads the RootDSE.
    Result<LdapEntry> readEntry(const QString &dn, const QStringList &attributes);

    // Removes and adds exact values of one attribute in a single modify operation. Never replaces
    // the attribute as a whole, so values written by someone else in the meantime survive.
    Result<void> modifyValues(const QString &dn, const QString &attribute, const QList<QByteArray> &remove,
                              const QList<QByteArray> &add);

    [[nodiscard]] const ConnectionProfile &profile() const { return m_profile; }
    [[nodiscard]] const std::optional<ServerCertificate> &serverCertificate() const
    {
        return m_serverCertificate;
    }

    // Fetches the certificate a server presents, without verifying or binding: for error messages
    // and for showing a person what they would pin.
    static Result<ServerCertificate> probeServerCertificate(const ConnectionProfile &profile);

private:
    LdapConnection(const ConnectionProfile &profile, LdapPtr ld);
    Error errorFromCode(int code, const QString &during) const;
    Result<void> replaceIfUnchanged(const QString &dn, const QString &attribute,
                                    const QList<QByteArray> &remove, const QList<QByteArray> &add);

    ConnectionProfile m_profile;
    LdapPtr m_ld;
    std::optional<ServerCertificate> m_serverCertificate;
};

// The reader's decoding of one search result entry (LDAP_RES_SEARCH_ENTRY), exactly as search()
// applies it to every entry; public for the fuzz target, which hands it messages built from its bytes.
LdapEntry decodeSearchEntry(LDAP *ld, LDAPMessage *message);

// Maps a libldap result code to certsync's error code words (see LdapConnection).
QString errorCodeFor(int ldapResultCode);

} // namespace certsync::directory
