#include "certs/Certificate.h"

#include <QHash>

#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

namespace certsync::certs {

namespace {

template<typename T, auto FreeFn> using Owned = std::unique_ptr<T, ossl::Deleter<FreeFn>>;

using GeneralNamesPtr = Owned<GENERAL_NAMES, GENERAL_NAMES_free>;
using EkuPtr = Owned<EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free>;
using AiaPtr = Owned<AUTHORITY_INFO_ACCESS, AUTHORITY_INFO_ACCESS_free>;
using CrlDpPtr = Owned<CRL_DIST_POINTS, CRL_DIST_POINTS_free>;

QByteArray digest(const EVP_MD *md, QByteArrayView data)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(data.data(), size_t(data.size()), out, &length, md, nullptr) != 1) {
        ossl::drainErrors();
        return {};
    }
    return QByteArray(reinterpret_cast<const char *>(out), int(length));
}

QString uriOf(const GENERAL_NAME *name)
{
    if (name && name->type == GEN_URI)
        return ossl::toString(name->d.uniformResourceIdentifier);
    return {};
}

void readSubjectAltNames(X509 *cert, Certificate &info)
{
    GeneralNamesPtr names(
        static_cast<GENERAL_NAMES *>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
    if (!names)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names.get(), i);
        switch (name->type) {
        case GEN_EMAIL:
            info.emailSans.append(ossl::toString(name->d.rfc822Name));
            break;
        case GEN_DNS:
            info.dnsSans.append(ossl::toString(name->d.dNSName));
            break;
        case GEN_OTHERNAME: {
            const OTHERNAME *other = name->d.otherName;
            if (ossl::oidToString(other->type_id) == QLatin1String(OidMicrosoftUpn) && other->value
                && other->value->type == V_ASN1_UTF8STRING)
                info.upnSans.append(ossl::toString(other->value->value.utf8string));
            break;
        }
        default:
            break;
        }
    }
}

void readSubjectEmails(X509 *cert, Certificate &info)
{
    const X509_NAME *subject = X509_get_subject_name(cert);
    int index = -1;
    while ((index = X509_NAME_get_index_by_NID(subject, NID_pkcs9_emailAddress, index)) >= 0) {
        const X509_NAME_ENTRY *entry = X509_NAME_get_entry(subject, index);
        info.subjectEmails.append(ossl::toString(X509_NAME_ENTRY_get_data(entry)));
    }
}

void readExtendedKeyUsage(X509 *cert, Certificate &info)
{
    int critical = -1;
    EkuPtr eku(
        static_cast<EXTENDED_KEY_USAGE *>(X509_get_ext_d2i(cert, NID_ext_key_usage, &critical, nullptr)));
    if (!eku) {
        // critical == -1: absent. -2 or a decode failure: present but unreadable, which we treat as
        // an EKU extension that allows nothing.
        info.hasExtendedKeyUsage = critical != -1;
        ossl::drainErrors();
        return;
    }
    info.hasExtendedKeyUsage = true;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i)
        info.extendedKeyUsages.append(ossl::oidToString(sk_ASN1_OBJECT_value(eku.get(), i)));
}

void readAccessUrls(X509 *cert, Certificate &info)
{
    if (AiaPtr aia(
            static_cast<AUTHORITY_INFO_ACCESS *>(X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr)));
        aia) {
        for (int i = 0; i < sk_ACCESS_DESCRIPTION_num(aia.get()); ++i) {
            const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia.get(), i);
            const QString url = uriOf(ad->location);
            if (url.isEmpty())
                continue;
            const int method = OBJ_obj2nid(ad->method);
            if (method == NID_ad_ca_issuers)
                info.caIssuersUrls.append(url);
            else if (method == NID_ad_OCSP)
                info.ocspUrls.append(url);
        }
    }
    if (CrlDpPtr points(static_cast<CRL_DIST_POINTS *>(
            X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr)));
        points) {
        for (int i = 0; i < sk_DIST_POINT_num(points.get()); ++i) {
            const DIST_POINT *point = sk_DIST_POINT_value(points.get(), i);
            if (!point->distpoint || point->distpoint->type != 0)
                continue;
            const GENERAL_NAMES *names = point->distpoint->name.fullname;
            for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
                const QString url = uriOf(sk_GENERAL_NAME_value(names, j));
                if (!url.isEmpty())
                    info.crlUrls.append(url);
            }
        }
    }
}

void readKey(X509 *cert, Certificate &info)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (!key) {
        ossl::drainErrors();
        return;
    }
    info.keyBits = EVP_PKEY_get_bits(key);
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
        info.keyType = KeyType::Rsa;
        break;
    case EVP_PKEY_EC: {
        info.keyType = KeyType::Ec;
        char group[64] = {};
        size_t length = 0;
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length)
            == 1)
            info.curve = QString::fromLatin1(group, qsizetype(length));
        else
            ossl::drainErrors();
        break;
    }
    case EVP_PKEY_ED25519:
        info.keyType = KeyType::Ed25519;
        break;
    case EVP_PKEY_ED448:
        info.keyType = KeyType::Ed448;
        break;
    case EVP_PKEY_DSA:
        info.keyType = KeyType::Dsa;
        break;
    default:
        info.keyType = KeyType::Unknown;
        break;
    }
}

void readSignature(X509 *cert, Certificate &info)
{
    info.signatureAlgorithm = QString::fromLatin1(OBJ_nid2ln(X509_get_signature_nid(cert)));
    int digestNid = NID_undef;
    if (X509_get_signature_info(cert, &digestNid, nullptr, nullptr, nullptr) == 1 && digestNid != NID_undef)
        info.signatureDigest = QString::fromLatin1(OBJ_nid2sn(digestNid));
    else
        ossl::drainErrors();
}

} // namespace

QByteArray sha256Of(QByteArrayView data, const ossl::LibContext &context)
{
    return digest(context.sha256(), data);
}

ParsedCertificate describe(X509 *cert, QByteArrayView derBytes, const ossl::LibContext &context)
{
    ParsedCertificate parsed { ossl::share(cert), {} };
    Certificate &info = parsed.info;
    info.der = derBytes.isNull() ? ossl::der(cert) : derBytes.toByteArray();
    info.sha256 = digest(context.sha256(), info.der);
    info.sha1 = digest(context.sha1(), info.der);
    info.subject = ossl::nameToString(X509_get_subject_name(cert));
    info.issuer = ossl::nameToString(X509_get_issuer_name(cert));
    info.serialHex = ossl::serialHex(cert);
    info.notBefore = ossl::toDateTime(X509_get0_notBefore(cert));
    info.notAfter = ossl::toDateTime(X509_get0_notAfter(cert));

    // Caches the decoded standard extensions (flags, key usage, key ids) inside the X509 object;
    // chain verification reuses that cache.
    const uint32_t flags = X509_get_extension_flags(cert);
    info.isCa = flags & EXFLAG_CA;
    info.pathLength = int(X509_get_pathlen(cert));
    info.hasKeyUsage = flags & EXFLAG_KUSAGE;
    if (info.hasKeyUsage) {
        const uint32_t ku = X509_get_key_usage(cert);
        const std::pair<uint32_t, KeyUsageBit> bits[] = { { KU_DIGITAL_SIGNATURE, DigitalSignature },
                                                          { KU_NON_REPUDIATION, NonRepudiation },
                                                          { KU_KEY_ENCIPHERMENT, KeyEncipherment },
                                                          { KU_DATA_ENCIPHERMENT, DataEncipherment },
                                                          { KU_KEY_AGREEMENT, KeyAgreement },
                                                          { KU_KEY_CERT_SIGN, KeyCertSign },
                                                          { KU_CRL_SIGN, CrlSign },
                                                          { KU_ENCIPHER_ONLY, EncipherOnly },
                                                          { KU_DECIPHER_ONLY, DecipherOnly } };
        for (const auto &[openssl, ours] : bits)
            if (ku & openssl)
                info.keyUsage |= ours;
    }
    info.selfIssued = flags & EXFLAG_SI;
    info.selfSigned = info.selfIssued && X509_self_signed(cert, 1) == 1;
    if (const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(cert))
        info.subjectKeyId = ossl::toByteArray(skid);
    if (const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(cert))
        info.authorityKeyId = ossl::toByteArray(akid);

    readSubjectAltNames(cert, info);
    readSubjectEmails(cert, info);
    readExtendedKeyUsage(cert, info);
    readAccessUrls(cert, info);
    readKey(cert, info);
    readSignature(cert, info);
    ossl::drainErrors(); // leave the thread's error queue clean for the next value
    return parsed;
}

Result<ParsedCertificate> parseDer(QByteArrayView der, const ossl::LibContext &context)
{
    if (der.isEmpty())
        return Error { QStringLiteral("parse_error"), QStringLiteral("empty value") };
    qsizetype consumed = 0;
    const ossl::X509Ptr cert = ossl::decodeCertificate(context, der, &consumed);
    if (!cert)
        return ossl::error(QStringLiteral("parse_error"), QStringLiteral("not a DER X.509 certificate"));
    if (consumed != der.size())
        return Error {
            QStringLiteral("parse_error"),
            QStringLiteral("%1 unexpected bytes after the certificate").arg(der.size() - consumed)
        };
    ParsedCertificate parsed = describe(cert.get(), der, context);
    return parsed;
}

Result<std::vector<ParsedCertificate>> parseFileBytes(const QByteArray &bytes,
                                                      const std::function<bool(qint64 read)> &step)
{
    std::vector<ParsedCertificate> out;
    if (!bytes.contains("-----BEGIN")) {
        auto parsed = parseDer(bytes);
        if (!parsed)
            return parsed.error();
        out.push_back(std::move(parsed).value());
        return out;
    }
    ossl::BioPtr bio(BIO_new_mem_buf(bytes.constData(), int(bytes.size())));
    while (ossl::X509Ptr cert { PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) }) {
        out.push_back(describe(cert.get()));
        if (step && !step(bytes.size() - qint64(BIO_ctrl_pending(bio.get())))) {
            ossl::drainErrors();
            return Error { QStringLiteral("canceled"), QStringLiteral("cancelled") };
        }
    }
    const QString reasons = ossl::drainErrors(); // the loop always ends on "no start line"
    if (out.empty())
        return Error { QStringLiteral("parse_error"),
                       QStringLiteral("no PEM certificate found: ") + reasons };
    return out;
}

QStringList Certificate::emails() const
{
    QStringList out;
    for (const QStringList *list : { &emailSans, &subjectEmails })
        for (const QString &email : *list) {
            const QString lower = email.trimmed().toLower();
            if (!lower.isEmpty() && !out.contains(lower))
                out.append(lower);
        }
    return out;
}

bool Certificate::hasEmailProtection() const
{
    return !hasExtendedKeyUsage || extendedKeyUsages.contains(QLatin1String(OidEmailProtection));
}

QString keyTypeName(KeyType type)
{
    switch (type) {
    case KeyType::Rsa:
        return QStringLiteral("RSA");
    case KeyType::Ec:
        return QStringLiteral("EC");
    case KeyType::Ed25519:
        return QStringLiteral("Ed25519");
    case KeyType::Ed448:
        return QStringLiteral("Ed448");
    case KeyType::Dsa:
        return QStringLiteral("DSA");
    case KeyType::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

QString Certificate::keyDescription() const
{
    QString text = keyTypeName(keyType) + QLatin1Char(' ') + QString::number(keyBits);
    if (!curve.isEmpty())
        text += QStringLiteral(" (") + curve + QLatin1Char(')');
    return text;
}

QString keyUsageName(KeyUsageBit bit)
{
    switch (bit) {
    case DigitalSignature:
        return QStringLiteral("digitalSignature");
    case NonRepudiation:
        return QStringLiteral("nonRepudiation");
    case KeyEncipherment:
        return QStringLiteral("keyEncipherment");
    case DataEncipherment:
        return QStringLiteral("dataEncipherment");
    case KeyAgreement:
        return QStringLiteral("keyAgreement");
    case KeyCertSign:
        return QStringLiteral("keyCertSign");
    case CrlSign:
        return QStringLiteral("cRLSign");
    case EncipherOnly:
        return QStringLiteral("encipherOnly");
    case DecipherOnly:
        return QStringLiteral("decipherOnly");
    }
    return {};
}

QStringList Certificate::keyUsageNames() const
{
    QStringList names;
    for (quint16 bit = 1; bit <= DecipherOnly; bit <<= 1)
        if (keyUsage & bit)
            names.append(keyUsageName(KeyUsageBit(bit)));
    return names;
}

QString extendedKeyUsageName(const QString &oid)
{
    static const QHash<QString, QString> names = {
        { QStringLiteral("1.3.6.1.5.5.7.3.1"), QStringLiteral("TLS server authentication") },
        { QStringLiteral("1.3.6.1.5.5.7.3.2"), QStringLiteral("TLS client authentication") },
        { QStringLiteral("1.3.6.1.5.5.7.3.3"), QStringLiteral("Code signing") },
        { QStringLiteral("1.3.6.1.5.5.7.3.4"), QStringLiteral("E-mail protection") },
        { QStringLiteral("1.3.6.1.5.5.7.3.8"), QStringLiteral("Time stamping") },
        { QStringLiteral("1.3.6.1.5.5.7.3.9"), QStringLiteral("OCSP signing") },
        { QStringLiteral("1.3.6.1.4.1.311.20.2.2"), QStringLiteral("Smart card logon") },
        { QStringLiteral("1.3.6.1.4.1.311.10.3.4"), QStringLiteral("Encrypting File System") },
        { QStringLiteral("2.5.29.37.0"), QStringLiteral("Any extended key usage") },
    };
    return names.value(oid, oid);
}

QStringList Certificate::extendedKeyUsageNames() const
{
    QStringList names;
    for (const QString &oid : extendedKeyUsages)
        names.append(extendedKeyUsageName(oid));
    return names;
}

} // namespace certsync::certs
