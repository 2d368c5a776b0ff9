#pragma once

#include "certs/Certificate.h"

#include <QList>
#include <QString>

#include <vector>

namespace certsync::certs {

// The two directory attributes certsync reads. Names, not OIDs: AD and RFC 2798 disagree on the
// OID of userSMIMECertificate.
enum class Attribute { UserCertificate, UserSmimeCertificate };
QString attributeName(Attribute attribute); // "userCertificate", "userSMIMECertificate"

// Invalid stays last: the analysis cache's reader refuses values above it (StateStore.cpp).
enum class ValueKind { X509, Pkcs7, Invalid };
QString valueKindName(ValueKind kind); // "x509", "pkcs7", "invalid" (the CSV's words)

struct SmimeCapability
{
    QString oid;
    QString name; // OpenSSL's long name where it knows the OID
    int parameter = -1; // e.g. RC2 key bits; -1 when absent
};

// One attribute value, decoded: the certificates it carries and what kind of value it was.
struct DecodedValue
{
    ValueKind kind = ValueKind::Invalid;
    QByteArray bytes; // the raw value as read
    QList<Certificate> certificates; // a PKCS#7 bag may hold the whole chain
    int userIndex = -1; // which certificate is the user's; -1 when none could be chosen
    QString userChoice; // why that one: "signer", "e-mail", "only leaf", "only certificate"
    bool pkcs7Signed = false; // signed SignedData (Outlook) rather than degenerate certs-only
    QList<SmimeCapability> capabilities;
    bool bareCertificate = false; // a plain DER certificate found where a PKCS#7 was expected
    QString error; // why the value is invalid (OpenSSL's reason)

    // OpenSSL handles of `certificates`, same order, kept only until chain verification is done.
    std::vector<ossl::X509Ptr> handles;
    // Per certificate of a bag: the index in decodeValue()'s `known` it was taken from, else -1.
    QList<int> knownIndex;
    void releaseHandles() { handles.clear(); }
};

// Certificates of the same user already decoded (from its userCertificate values). A PKCS#7 bag
// that carries one of them byte for byte takes it from here instead of decoding it again: in
// directories that Outlook publishes, userSMIMECertificate repeats the userCertificate.
using KnownCertificates = std::vector<const ParsedCertificate *>;

// Decodes a value of either attribute. userCertificate expects DER X.509; userSMIMECertificate
// expects DER PKCS#7/CMS SignedData but a bare DER certificate is accepted there too (and flagged).
// Never throws, never drops: anything unreadable comes back as ValueKind::Invalid with the reason.
// `userEmails` (lower case) picks the user's certificate in a bag when no signer says so.
// Decodes into `context`; `known` certificates must have been decoded into it too.
DecodedValue decodeValue(Attribute attribute, const QByteArray &bytes, const QStringList &userEmails = {},
                         const ossl::LibContext &context = ossl::LibContext::global(),
                         const KnownCertificates *known = nullptr);

} // namespace certsync::certs
