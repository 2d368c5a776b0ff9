#include "TestPki.h"

#include "certs/Certificate.h"

#include <QFile>
#include <QHash>
#include <QMutex>
#include <QRandomGenerator>

#include <openssl/cms.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <map>
#include <stdexcept>

namespace certsync::testing {

using namespace certsync::ossl;

namespace {

void check(bool ok, const char *what)
{
    if (!ok)
        throw std::runtime_error(std::string("TestPki: ") + what + ": " + drainErrors().toStdString());
}

EvpPkeyPtr generate(KeyKind kind)
{
    switch (kind) {
    case KeyKind::Rsa1024:
        return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(1024)));
    case KeyKind::Rsa2048:
        return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t(2048)));
    case KeyKind::EcP256:
        return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    case KeyKind::EcP384:
        return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
    }
    return {};
}

void addExtension(X509 *cert, X509 *issuer, int nid, const QString &value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    const QByteArray v = value.toUtf8();
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, v.constData());
    check(ext != nullptr, "extension");
    check(X509_add_ext(cert, ext, -1) == 1, "add extension");
    X509_EXTENSION_free(ext);
}

quint16 defaultKeyUsage(const CertSpec &spec)
{
    using namespace certs;
    if (spec.ca)
        return KeyCertSign | CrlSign | DigitalSignature;
    if (spec.key == KeyKind::EcP256 || spec.key == KeyKind::EcP384)
        return DigitalSignature | KeyAgreement | NonRepudiation;
    return DigitalSignature | KeyEncipherment | NonRepudiation;
}

QString keyUsageText(quint16 bits)
{
    using namespace certs;
    QStringList names;
    for (quint16 bit = 1; bit <= DecipherOnly; bit <<= 1)
        if (bits & bit)
            names.append(keyUsageName(KeyUsageBit(bit)));
    return QStringLiteral("critical,") + names.join(QLatin1Char(','));
}

quint64 nextSerial()
{
    return QRandomGenerator::global()->generate64() & 0x7fffffffffffffffULL;
}

X509_NAME *makeName(const CertSpec &spec)
{
    X509_NAME *name = X509_NAME_new();
    auto add = [name](const char *field, const QString &value) {
        if (value.isEmpty())
            return;
        const QByteArray v = value.toUtf8();
        check(X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                         reinterpret_cast<const unsigned char *>(v.constData()), -1, -1, 0)
                  == 1,
              "name");
    };
    add("O", spec.organization);
    add("CN", spec.commonName);
    add("emailAddress", spec.subjectEmail);
    return name;
}

const EVP_MD *digestOf(const CertSpec &spec, EVP_PKEY *signingKey)
{
    if (EVP_PKEY_get_base_id(signingKey) == EVP_PKEY_ED25519)
        return nullptr;
    const EVP_MD *md = EVP_get_digestbyname(spec.digest.toLatin1().constData());
    check(md != nullptr, "digest");
    return md;
}

Issued build(const CertSpec &spec, const Issued *issuer, EVP_PKEY *signingKeyOverride = nullptr)
{
    Issued out;
    out.key = TestPki::key(spec.key, spec.keySlot);
    X509Ptr cert(X509_new());
    check(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), X509_VERSION_3);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), spec.serial ? spec.serial : nextSerial());
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), long(spec.notBeforeDays) * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), long(spec.notAfterDays) * 86400);
    X509_NAME *subject = makeName(spec);
    X509_set_subject_name(cert.get(), subject);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer->cert.get()) : subject);
    X509_NAME_free(subject);
    check(X509_set_pubkey(cert.get(), out.key.get()) == 1, "pubkey");

    X509 *issuerCert = issuer ? issuer->cert.get() : cert.get();
    if (spec.ca)
        addExtension(cert.get(), issuerCert, NID_basic_constraints,
                     spec.pathLength >= 0 ? QStringLiteral("critical,CA:TRUE,pathlen:%1").arg(spec.pathLength)
                                          : QStringLiteral("critical,CA:TRUE"));
    else
        addExtension(cert.get(), issuerCert, NID_basic_constraints, QStringLiteral("CA:FALSE"));
    const quint16 ku = spec.keyUsage.value_or(defaultKeyUsage(spec));
    if (ku)
        addExtension(cert.get(), issuerCert, NID_key_usage, keyUsageText(ku));
    if (spec.extendedKeyUsage && !spec.ca)
        addExtension(cert.get(), issuerCert, NID_ext_key_usage,
                     spec.extendedKeyUsage->join(QLatin1Char(',')));
    addExtension(cert.get(), issuerCert, NID_subject_key_identifier, QStringLiteral("hash"));
    if (issuer)
        addExtension(cert.get(), issuerCert, NID_authority_key_identifier, QStringLiteral("keyid:always"));

    QStringList sans;
    for (const QString &email : spec.emails)
        sans.append(QStringLiteral("email:") + email);
    for (const QString &upn : spec.upns)
        sans.append(QStringLiteral("otherName:1.3.6.1.4.1.311.20.2.3;UTF8:") + upn);
    for (const QString &dns : spec.dnsNames)
        sans.append(QStringLiteral("DNS:") + dns);
    for (const QString &ip : spec.ipAddresses)
        sans.append(QStringLiteral("IP:") + ip);
    if (!sans.isEmpty())
        addExtension(cert.get(), issuerCert, NID_subject_alt_name, sans.join(QLatin1Char(',')));
    QStringList aia;
    if (!spec.caIssuersUrl.isEmpty())
        aia.append(QStringLiteral("caIssuers;URI:") + spec.caIssuersUrl);
    if (!spec.ocspUrl.isEmpty())
        aia.append(QStringLiteral("OCSP;URI:") + spec.ocspUrl);
    if (!aia.isEmpty())
        addExtension(cert.get(), issuerCert, NID_info_access, aia.join(QLatin1Char(',')));
    if (!spec.crlUrl.isEmpty())
        addExtension(cert.get(), issuerCert, NID_crl_distribution_points,
                     QStringLiteral("URI:") + spec.crlUrl);

    EVP_PKEY *signingKey = signingKeyOverride ? signingKeyOverride
        : issuer                              ? issuer->key.get()
                                              : out.key.get();
    check(X509_sign(cert.get(), signingKey, digestOf(spec, signingKey)) > 0, "sign");
    out.der = der(cert.get());
    out.cert = std::move(cert);
    return out;
}

} // namespace

QByteArray Issued::pem() const
{
    return TestPki::pemOf({ this });
}

QByteArray Issued::keyPem() const
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "key PEM");
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return QByteArray(data, length);
}

Issued Issued::clone() const
{
    Issued copy;
    copy.cert = share(cert.get());
    if (key) {
        EVP_PKEY_up_ref(key.get());
        copy.key.reset(key.get());
    }
    copy.der = der;
    return copy;
}

EvpPkeyPtr TestPki::key(KeyKind kind, int slot)
{
    static QMutex mutex;
    static std::map<int, EvpPkeyPtr> cache; // lives for the process, freed at exit
    const QMutexLocker lock(&mutex);
    EvpPkeyPtr &entry = cache[int(kind) * 1000 + slot];
    if (!entry) {
        entry = generate(kind);
        check(entry != nullptr, "key generation");
    }
    EVP_PKEY_up_ref(entry.get());
    return EvpPkeyPtr(entry.get());
}

Issued TestPki::selfSigned(const CertSpec &spec)
{
    return build(spec, nullptr);
}

Issued TestPki::issue(const CertSpec &spec, const Issued &issuer)
{
    return build(spec, &issuer);
}

Issued TestPki::issueWithBadSignature(const CertSpec &spec, const Issued &issuer)
{
    EvpPkeyPtr stranger = key(KeyKind::Rsa2048, 999);
    return build(spec, &issuer, stranger.get());
}

QByteArray TestPki::crlDer(const Issued &issuer, const QList<const Issued *> &revoked, int nextUpdateDays)
{
    X509CrlPtr crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.cert.get()));
    std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>> last(X509_gmtime_adj(nullptr, -3600));
    std::unique_ptr<ASN1_TIME, Deleter<ASN1_TIME_free>> next(
        X509_gmtime_adj(nullptr, long(nextUpdateDays) * 86400));
    X509_CRL_set1_lastUpdate(crl.get(), last.get());
    X509_CRL_set1_nextUpdate(crl.get(), next.get());
    for (const Issued *cert : revoked) {
        X509_REVOKED *entry = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(cert->cert.get()));
        X509_REVOKED_set_revocationDate(entry, last.get());
        X509_CRL_add0_revoked(crl.get(), entry);
    }
    X509_CRL_sort(crl.get());
    check(X509_CRL_sign(crl.get(), issuer.key.get(), EVP_sha256()) > 0, "CRL sign");
    const int length = i2d_X509_CRL(crl.get(), nullptr);
    QByteArray out(length, Qt::Uninitialized);
    auto *p = reinterpret_cast<unsigned char *>(out.data());
    i2d_X509_CRL(crl.get(), &p);
    return out;
}

QByteArray TestPki::crlPem(const Issued &issuer, const QList<const Issued *> &revoked, int nextUpdateDays)
{
    const QByteArray derBytes = crlDer(issuer, revoked, nextUpdateDays);
    return "-----BEGIN X509 CRL-----\n" + derBytes.toBase64() + "\n-----END X509 CRL-----\n";
}

namespace {

QByteArray cmsToDer(CMS_ContentInfo *cms)
{
    const int length = i2d_CMS_ContentInfo(cms, nullptr);
    check(length > 0, "CMS encode");
    QByteArray out(length, Qt::Uninitialized);
    auto *p = reinterpret_cast<unsigned char *>(out.data());
    i2d_CMS_ContentInfo(cms, &p);
    return out;
}

using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo_free>>;

} // namespace

QByteArray TestPki::pkcs7CertsOnly(const QList<const Issued *> &certs)
{
    X509StackPtr stack(sk_X509_new_null());
    for (const Issued *cert : certs)
        sk_X509_push(stack.get(), share(cert->cert.get()).release());
    CmsPtr cms(CMS_sign(nullptr, nullptr, stack.get(), nullptr, CMS_PARTIAL));
    check(cms != nullptr, "CMS certs-only");
    return cmsToDer(cms.get());
}

QByteArray TestPki::pkcs7Signed(const Issued &signer, const QList<const Issued *> &extra, bool capabilities)
{
    X509StackPtr stack(sk_X509_new_null());
    for (const Issued *cert : extra)
        sk_X509_push(stack.get(), share(cert->cert.get()).release());
    // Outlook signs an empty content; the signature and the certificate bag are what matter.
    BioPtr content(BIO_new_mem_buf("", 0));
    const unsigned int flags = CMS_BINARY | (capabilities ? 0 : CMS_NOSMIMECAP);
    CmsPtr cms(CMS_sign(signer.cert.get(), signer.key.get(), stack.get(), content.get(), flags));
    check(cms != nullptr, "CMS sign");
    return cmsToDer(cms.get());
}

bool TestPki::writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

QByteArray TestPki::pemOf(const QList<const Issued *> &certs)
{
    QByteArray out;
    for (const Issued *cert : certs) {
        BioPtr bio(BIO_new(BIO_s_mem()));
        PEM_write_bio_X509(bio.get(), cert->cert.get());
        char *data = nullptr;
        const long length = BIO_get_mem_data(bio.get(), &data);
        out.append(data, length);
    }
    return out;
}

const StandardPki &StandardPki::instance()
{
    static const StandardPki pki = [] {
        StandardPki p;
        CertSpec rootSpec;
        rootSpec.commonName = QStringLiteral("certsync Test Root CA");
        rootSpec.ca = true;
        rootSpec.key = KeyKind::Rsa2048;
        rootSpec.keySlot = 1;
        rootSpec.notBeforeDays = -3650;
        rootSpec.notAfterDays = 3650;
        p.root = TestPki::selfSigned(rootSpec);

        CertSpec interSpec = rootSpec;
        interSpec.commonName = QStringLiteral("certsync Test Issuing CA");
        interSpec.keySlot = 2;
        interSpec.pathLength = 0;
        interSpec.crlUrl = QStringLiteral("http://pki.example.test/issuing.crl");
        interSpec.caIssuersUrl = QStringLiteral("http://pki.example.test/root.cer");
        p.intermediate = TestPki::issue(interSpec, p.root);

        CertSpec ecSpec = interSpec;
        ecSpec.commonName = QStringLiteral("certsync Test EC Issuing CA");
        ecSpec.key = KeyKind::EcP256;
        ecSpec.keySlot = 3;
        p.ecIntermediate = TestPki::issue(ecSpec, p.root);

        CertSpec otherSpec = rootSpec;
        otherSpec.commonName = QStringLiteral("Somebody Else's Root CA");
        otherSpec.keySlot = 4;
        p.otherRoot = TestPki::selfSigned(otherSpec);
        return p;
    }();
    return pki;
}

CertSpec goodLeafSpec(const QString &mail, KeyKind key)
{
    CertSpec spec;
    spec.commonName = mail.section(QLatin1Char('@'), 0, 0);
    spec.emails = { mail };
    spec.key = key;
    spec.crlUrl = QStringLiteral("http://pki.example.test/issuing.crl");
    spec.caIssuersUrl = QStringLiteral("http://pki.example.test/issuing.cer");
    return spec;
}

} // namespace certsync::testing
