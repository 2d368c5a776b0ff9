#pragma once

#include <QString>
#include <QStringList>

namespace certsync::directory {

// Which schema the directory speaks. Decides the default attribute mapping and filter.
enum class SourceKind { ActiveDirectory, GenericLdap };

enum class BindMethod {
    Simple, // DN or UPN + password; only over TLS (StartTLS or ldaps://)
    Gssapi, // SASL GSSAPI with the Kerberos ticket in the caller's credential cache
    Anonymous,
};

// Where each field of a directory user comes from. Editable, because directories differ; empty
// means "this directory has no such attribute".
struct AttributeMapping
{
    QString sourceAnchor; // objectGUID (binary, base64 = onPremisesImmutableId) or entryUUID (text)
    bool sourceAnchorBinary = true;
    QString consistencyGuid; // ms-DS-ConsistencyGuid (binary) where used as the anchor
    QString userPrincipalName;
    QString mail;
    QString proxyAddresses;
    QString accountName; // sAMAccountName or uid
    QString displayName;
    QString userAccountControl; // disabled = bit 0x2
    QString changedTime; // whenChanged / modifyTimestamp (generalized time), shown to people
    QString changeNumber; // uSNChanged (AD only)
    // OpenLDAP's entryCSN: modifyTimestamp with microseconds and a counter, so an incremental read
    // can ask for "changed after this" without losing changes made in the mark's own second.
    QString changeSequence;
    QString userCertificate; // "userCertificate" on AD, "userCertificate;binary" on OpenLDAP
    QString userSmimeCertificate;

    static AttributeMapping defaults(SourceKind kind);
    [[nodiscard]] QStringList attributes() const; // what to request, without empties and duplicates
};

// How to reach and read one directory. Holds no secret: the password comes from the keychain or an
// environment variable at connect time, so a profile can be logged and stored as it is.
struct ConnectionProfile
{
    SourceKind kind = SourceKind::ActiveDirectory;
    QString url; // ldap://host[:port] (StartTLS is then required) or ldaps://host[:port]
    bool startTls = true; // for ldap:// URLs; off only for a loopback test server without TLS
    QString baseDn;
    QString filter; // empty: the kind's default
    BindMethod bind = BindMethod::Simple;
    QString bindDn; // a DN or, on AD, a UPN
    QString caFile; // PEM bundle that verifies the server's certificate
    // SHA-256 of the server certificate's DER, hex (colons allowed): trust exactly this certificate.
    // The visible alternative to a CA file for servers with self-issued certificates.
    QString serverCertificateSha256;
    int connectTimeoutMs = 10000;
    int operationTimeoutMs = 60000; // the longest silence tolerated while waiting for a reply
    int pageSize = 500;
    int serverTimeLimitSeconds = 0; // 0: the server's own limit
    bool chaseReferrals = false;
    AttributeMapping mapping = AttributeMapping::defaults(SourceKind::ActiveDirectory);

    [[nodiscard]] QString effectiveFilter() const;
    [[nodiscard]] bool usesTls() const;
    static QString defaultFilter(SourceKind kind);
    // "ldaps://dc1:636 base DC=example,DC=com as CN=reader" for logs and error messages.
    [[nodiscard]] QString describe() const;
};

QString sourceKindName(SourceKind kind); // "ad", "ldap" (the CLI's --profile words)

} // namespace certsync::directory
