#include "certs/SmimeValue.h"

#include <openssl/cms.h>
#include <openssl/objects.h>

namespace certsync::certs {

namespace {

using CmsPtr = std::unique_ptr<CMS_ContentInfo, ossl::Deleter<CMS_ContentInfo_free>>;

struct AlgorStackDeleter
{
    void operator()(X509_ALGORS *s) const noexcept { sk_X509_ALGOR_pop_free(s, X509_ALGOR_free); }
};
using AlgorStackPtr = std::unique_ptr<X509_ALGORS, AlgorStackDeleter>;

DecodedValue invalid(const QByteArray &bytes, QString reason)
{
    DecodedValue value;
    value.kind = ValueKind::Invalid;
    value.bytes = bytes;
    value.error = std::move(reason);
    return value;
}

bool decodeAsCertificate(const QByteArray &bytes, DecodedValue &value, QString &reason)
{
    auto parsed = parseDer(bytes);
    if (!parsed) {
        reason = parsed.error().message;
        return false;
    }
    value.kind = ValueKind::X509;
    value.certificates.append(parsed->info);
    value.handles.push_back(std::move(parsed->handle));
    value.userIndex = 0;
    value.userChoice = QStringLiteral("only certificate");
    return true;
}

QList<SmimeCapability> capabilitiesOf(CMS_SignerInfo *signer)
{
    QList<SmimeCapability> out;
    const ASN1_STRING *sequence = static_cast<const ASN1_STRING *>(
        CMS_signed_get0_data_by_OBJ(signer, OBJ_nid2obj(NID_SMIMECapabilities), -3, V_ASN1_SEQUENCE));
    if (!sequence) {
        ossl::drainErrors();
        return out;
    }
    const unsigned char *p = ASN1_STRING_get0_data(sequence);
    AlgorStackPtr algorithms(d2i_X509_ALGORS(nullptr, &p, ASN1_STRING_length(sequence)));
    if (!algorithms) {
        ossl::drainErrors();
        return out;
    }
    for (int i = 0; i < sk_X509_ALGOR_num(algorithms.get()); ++i) {
        const X509_ALGOR *algorithm = sk_X509_ALGOR_value(algorithms.get(), i);
        const ASN1_OBJECT *oid = nullptr;
        int parameterType = V_ASN1_UNDEF;
        const void *parameter = nullptr;
        X509_ALGOR_get0(&oid, &parameterType, &parameter, algorithm);
        SmimeCapability capability { ossl::oidToString(oid), ossl::oidName(oid), -1 };
        if (parameterType == V_ASN1_INTEGER)
            capability.parameter = int(ASN1_INTEGER_get(static_cast<const ASN1_INTEGER *>(parameter)));
        out.append(capability);
    }
    return out;
}

// Chooses the user's certificate among those of a bag: the signer's, else the one whose e-mail
// matches the user, else the only end-entity certificate, else the only certificate.
void chooseUserCertificate(DecodedValue &value, int signerIndex, const QStringList &userEmails)
{
    if (signerIndex >= 0) {
        value.userIndex = signerIndex;
        value.userChoice = QStringLiteral("signer");
        return;
    }
    QList<int> leaves;
    for (int i = 0; i < value.certificates.size(); ++i) {
        const Certificate &cert = value.certificates.at(i);
        if (cert.isCa)
            continue;
        leaves.append(i);
        for (const QString &email : cert.emails())
            if (userEmails.contains(email)) {
                value.userIndex = i;
                value.userChoice = QStringLiteral("e-mail");
                return;
            }
    }
    if (leaves.size() == 1) {
        value.userIndex = leaves.first();
        value.userChoice = QStringLiteral("only leaf");
    } else if (value.certificates.size() == 1) {
        value.userIndex = 0;
        value.userChoice = QStringLiteral("only certificate");
    }
}

bool decodeAsPkcs7(const QByteArray &bytes, const QStringList &userEmails, DecodedValue &value,
                   QString &reason)
{
    const auto *begin = reinterpret_cast<const unsigned char *>(bytes.constData());
    const unsigned char *p = begin;
    CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &p, long(bytes.size())));
    if (!cms) {
        reason = ossl::drainErrors();
        if (reason.isEmpty())
            reason = QStringLiteral("not a PKCS#7/CMS structure");
        return false;
    }
    if (p != begin + bytes.size()) {
        reason =
            QStringLiteral("%1 unexpected bytes after the PKCS#7 structure").arg(begin + bytes.size() - p);
        return false;
    }
    if (OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        reason = QStringLiteral("PKCS#7 content type %1, expected signedData")
                     .arg(ossl::oidName(CMS_get0_type(cms.get())));
        return false;
    }
    ossl::X509StackPtr certs(CMS_get1_certs(cms.get()));
    const int count = certs ? sk_X509_num(certs.get()) : 0;
    if (count == 0) {
        ossl::drainErrors();
        reason = QStringLiteral("PKCS#7 signedData carries no certificate");
        return false;
    }
    value.kind = ValueKind::Pkcs7;
    for (int i = 0; i < count; ++i) {
        ParsedCertificate parsed = describe(sk_X509_value(certs.get(), i));
        value.certificates.append(std::move(parsed.info));
        value.handles.push_back(std::move(parsed.handle));
    }

    int signerIndex = -1;
    STACK_OF(CMS_SignerInfo) *signers = CMS_get0_SignerInfos(cms.get());
    value.pkcs7Signed = signers && sk_CMS_SignerInfo_num(signers) > 0;
    if (value.pkcs7Signed) {
        CMS_SignerInfo *signer = sk_CMS_SignerInfo_value(signers, 0);
        for (int i = 0; i < count && signerIndex < 0; ++i)
            if (CMS_SignerInfo_cert_cmp(signer, value.handles[size_t(i)].get()) == 0)
                signerIndex = i;
        value.capabilities = capabilitiesOf(signer);
    }
    chooseUserCertificate(value, signerIndex, userEmails);
    ossl::drainErrors();
    return true;
}

} // namespace

QString attributeName(Attribute attribute)
{
    return attribute == Attribute::UserCertificate ? QStringLiteral("userCertificate")
                                                   : QStringLiteral("userSMIMECertificate");
}

QString valueKindName(ValueKind kind)
{
    switch (kind) {
    case ValueKind::X509:
        return QStringLiteral("x509");
    case ValueKind::Pkcs7:
        return QStringLiteral("pkcs7");
    case ValueKind::Invalid:
        break;
    }
    return QStringLiteral("invalid");
}

DecodedValue decodeValue(Attribute attribute, const QByteArray &bytes, const QStringList &userEmails)
{
    if (bytes.isEmpty())
        return invalid(bytes, QStringLiteral("empty value"));
    // DER starts with a SEQUENCE; anything else cannot be either form, and saying so is clearer
    // than OpenSSL's "wrong tag".
    if (quint8(bytes.at(0)) != 0x30)
        return invalid(bytes,
                       QStringLiteral("not DER: first byte 0x%1, expected 0x30 (SEQUENCE)")
                           .arg(quint8(bytes.at(0)), 2, 16, QLatin1Char('0')));

    DecodedValue value;
    value.bytes = bytes;
    QString certReason;
    QString pkcs7Reason;
    if (attribute == Attribute::UserCertificate) {
        if (decodeAsCertificate(bytes, value, certReason))
            return value;
        value = DecodedValue {};
        value.bytes = bytes;
        if (decodeAsPkcs7(bytes, userEmails, value, pkcs7Reason))
            return value;
        return invalid(bytes, QStringLiteral("not an X.509 certificate (%1)").arg(certReason));
    }
    if (decodeAsPkcs7(bytes, userEmails, value, pkcs7Reason))
        return value;
    value = DecodedValue {};
    value.bytes = bytes;
    if (decodeAsCertificate(bytes, value, certReason)) {
        value.bareCertificate = true;
        return value;
    }
    return invalid(
        bytes,
        QStringLiteral("neither PKCS#7 (%1) nor an X.509 certificate (%2)").arg(pkcs7Reason, certReason));
}

} // namespace certsync::certs
