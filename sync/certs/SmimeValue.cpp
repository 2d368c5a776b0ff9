#include "certs/SmimeValue.h"

#include <optional>

#include <openssl/cms.h>
#include <openssl/err.h>
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

bool decodeAsCertificate(const QByteArray &bytes, const ossl::LibContext &context, DecodedValue &value,
                         QString &reason)
{
    auto parsed = parseDer(bytes, context);
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

// Decodes DER CMS bytes into `context` (the certificates inside then live there too).
CmsPtr decodeCms(QByteArrayView bytes, const ossl::LibContext &context, qsizetype *consumed)
{
    const auto *begin = reinterpret_cast<const unsigned char *>(bytes.data());
    const unsigned char *p = begin;
    CMS_ContentInfo *cms = CMS_ContentInfo_new_ex(context.get(), nullptr);
    if (cms) // on failure d2i frees the object and clears the pointer
        d2i_CMS_ContentInfo(&cms, &p, long(bytes.size()));
    *consumed = cms ? p - begin : 0;
    return CmsPtr(cms);
}

// The signer, the S/MIME capabilities and the user's certificate of a bag whose certificates are
// in `value` already.
void readSigners(CMS_ContentInfo *cms, const QStringList &userEmails, DecodedValue &value)
{
    int signerIndex = -1;
    STACK_OF(CMS_SignerInfo) *signers = CMS_get0_SignerInfos(cms);
    value.pkcs7Signed = signers && sk_CMS_SignerInfo_num(signers) > 0;
    if (value.pkcs7Signed) {
        CMS_SignerInfo *signer = sk_CMS_SignerInfo_value(signers, 0);
        for (int i = 0; i < int(value.handles.size()) && signerIndex < 0; ++i)
            if (CMS_SignerInfo_cert_cmp(signer, value.handles[size_t(i)].get()) == 0)
                signerIndex = i;
        value.capabilities = capabilitiesOf(signer);
    }
    chooseUserCertificate(value, signerIndex, userEmails);
    ossl::drainErrors();
}

// One DER element (tag, length, contents) inside a buffer.
struct Element
{
    qsizetype offset = 0; // of the tag
    qsizetype header = 0; // tag and length octets
    qsizetype length = 0; // contents octets
    int tag = 0;
    int xclass = 0;
    bool constructed = false;
    [[nodiscard]] qsizetype contents() const { return offset + header; }
    [[nodiscard]] qsizetype end() const { return offset + header + length; }
    [[nodiscard]] bool is(int t, int c, bool cons) const
    {
        return tag == t && xclass == c && constructed == cons;
    }
};

// Reads the element at `offset`, which must end by `limit`. Definite lengths only: anything else
// (BER's indefinite lengths, a bad header) says no, and the caller decodes the value as a whole.
std::optional<Element> readElement(QByteArrayView bytes, qsizetype offset, qsizetype limit)
{
    if (offset >= limit)
        return std::nullopt;
    const auto *start = reinterpret_cast<const unsigned char *>(bytes.data()) + offset;
    const unsigned char *p = start;
    long length = 0;
    Element element;
    ERR_set_mark();
    const int flags = ASN1_get_object(&p, &length, &element.tag, &element.xclass, long(limit - offset));
    ERR_pop_to_mark();
    if ((flags & 0x80) || (flags & 0x01)) // error; indefinite length
        return std::nullopt;
    element.offset = offset;
    element.header = p - start;
    element.length = length;
    element.constructed = flags & V_ASN1_CONSTRUCTED;
    if (element.end() > limit)
        return std::nullopt;
    return element;
}

QByteArray derHeader(int tag, int xclass, qsizetype length)
{
    const int total = ASN1_object_size(1, int(length), tag);
    QByteArray header(total - int(length), Qt::Uninitialized);
    auto *p = reinterpret_cast<unsigned char *>(header.data());
    ASN1_put_object(&p, 1, int(length), tag, xclass);
    return header;
}

// A bag that repeats certificates the user's other values carry: takes those from `known` and
// decodes only the others. The CMS structure is decoded without its certificates (the same bytes
// with the certificates field cut out), which is where the cost is: every certificate's key goes
// through OpenSSL's decoders. Says no (and the caller decodes the whole value as usual) unless
// the value is plain DER SignedData whose certificates all decode on their own and at least one
// is known; then the result equals decoding the whole value.
bool decodeBagReusing(const QByteArray &bytes, const QStringList &userEmails, const ossl::LibContext &context,
                      const KnownCertificates &known, DecodedValue &value)
{
    static const QByteArray signedDataOid = QByteArray::fromHex("06092a864886f70d010702");
    const QByteArrayView all(bytes);
    const auto outer = readElement(all, 0, all.size());
    if (!outer || !outer->is(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true) || outer->end() != all.size())
        return false;
    const auto type = readElement(all, outer->contents(), outer->end());
    if (!type || all.sliced(type->offset, type->end() - type->offset) != signedDataOid)
        return false;
    const auto explicitContent = readElement(all, type->end(), outer->end());
    if (!explicitContent || !explicitContent->is(0, V_ASN1_CONTEXT_SPECIFIC, true)
        || explicitContent->end() != outer->end())
        return false;
    const auto signedData = readElement(all, explicitContent->contents(), explicitContent->end());
    if (!signedData || !signedData->is(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true)
        || signedData->end() != explicitContent->end())
        return false;

    QByteArray withoutCertificates; // SignedData's contents without the certificates field
    std::optional<Element> certificates;
    for (qsizetype at = signedData->contents(); at < signedData->end();) {
        const auto field = readElement(all, at, signedData->end());
        if (!field)
            return false;
        if (!certificates && field->is(0, V_ASN1_CONTEXT_SPECIFIC, true))
            certificates = field;
        else
            withoutCertificates += all.sliced(field->offset, field->end() - field->offset);
        at = field->end();
    }
    if (!certificates)
        return false;

    std::vector<QByteArrayView> slices;
    for (qsizetype at = certificates->contents(); at < certificates->end();) {
        const auto cert = readElement(all, at, certificates->end());
        if (!cert || !cert->is(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, true)) // other CertificateChoices
            return false;
        slices.push_back(all.sliced(cert->offset, cert->end() - cert->offset));
        at = cert->end();
    }
    QList<int> knownIndex;
    bool anyKnown = false;
    for (QByteArrayView slice : slices) {
        int index = -1;
        for (size_t k = 0; k < known.size() && index < 0; ++k)
            if (known[k]->info.der == slice)
                index = int(k);
        knownIndex.append(index);
        anyKnown |= index >= 0;
    }
    if (!anyKnown)
        return false;

    QByteArray stripped =
        derHeader(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, withoutCertificates.size()) + withoutCertificates;
    stripped = derHeader(0, V_ASN1_CONTEXT_SPECIFIC, stripped.size()) + stripped;
    stripped = signedDataOid + stripped;
    stripped = derHeader(V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL, stripped.size()) + stripped;
    qsizetype consumed = 0;
    const CmsPtr cms = decodeCms(stripped, context, &consumed);
    if (!cms || consumed != stripped.size() || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
        ossl::drainErrors();
        return false;
    }

    DecodedValue reused;
    reused.kind = ValueKind::Pkcs7;
    reused.bytes = bytes;
    reused.knownIndex = knownIndex;
    for (size_t i = 0; i < slices.size(); ++i) {
        if (const int k = knownIndex.at(qsizetype(i)); k >= 0) {
            reused.certificates.append(known[size_t(k)]->info);
            reused.handles.push_back(ossl::share(known[size_t(k)]->handle.get()));
            continue;
        }
        qsizetype used = 0;
        ossl::X509Ptr cert = ossl::decodeCertificate(context, slices[i], &used);
        if (!cert || used != slices[i].size()) {
            ossl::drainErrors();
            return false;
        }
        // As the whole bag's decoding describes it: DER re-encoded from the decoded certificate.
        ParsedCertificate parsed = describe(cert.get(), {}, context);
        reused.certificates.append(std::move(parsed.info));
        reused.handles.push_back(std::move(parsed.handle));
    }
    readSigners(cms.get(), userEmails, reused);
    value = std::move(reused);
    return true;
}

bool decodeAsPkcs7(const QByteArray &bytes, const QStringList &userEmails, const ossl::LibContext &context,
                   const KnownCertificates *known, DecodedValue &value, QString &reason)
{
    if (known && !known->empty() && decodeBagReusing(bytes, userEmails, context, *known, value))
        return true;
    const auto *begin = reinterpret_cast<const unsigned char *>(bytes.constData());
    qsizetype consumed = 0;
    const CmsPtr cms = decodeCms(bytes, context, &consumed);
    const unsigned char *p = begin + consumed;
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
        ParsedCertificate parsed = describe(sk_X509_value(certs.get(), i), {}, context);
        value.certificates.append(std::move(parsed.info));
        value.handles.push_back(std::move(parsed.handle));
        value.knownIndex.append(-1);
    }
    readSigners(cms.get(), userEmails, value);
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

DecodedValue decodeValue(Attribute attribute, const QByteArray &bytes, const QStringList &userEmails,
                         const ossl::LibContext &context, const KnownCertificates *known)
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
        if (decodeAsCertificate(bytes, context, value, certReason))
            return value;
        value = DecodedValue {};
        value.bytes = bytes;
        if (decodeAsPkcs7(bytes, userEmails, context, known, value, pkcs7Reason))
            return value;
        return invalid(bytes, QStringLiteral("not an X.509 certificate (%1)").arg(certReason));
    }
    if (decodeAsPkcs7(bytes, userEmails, context, known, value, pkcs7Reason))
        return value;
    value = DecodedValue {};
    value.bytes = bytes;
    if (decodeAsCertificate(bytes, context, value, certReason)) {
        value.bareCertificate = true;
        return value;
    }
    return invalid(
        bytes,
        QStringLiteral("neither PKCS#7 (%1) nor an X.509 certificate (%2)").arg(pkcs7Reason, certReason));
}

} // namespace certsync::certs
