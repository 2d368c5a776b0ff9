#include "certs/OpenSsl.h"

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include <ctime>

namespace certsync::ossl {

X509Ptr share(X509 *cert)
{
    if (cert)
        X509_up_ref(cert);
    return X509Ptr(cert);
}

void initialiseForProcess()
{
    // The first initialisation decides whether OpenSSL registers its atexit cleanup.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
}

LibContext::LibContext(OSSL_LIB_CTX *ctx, bool owned)
    : m_ctx(ctx)
    , m_owned(owned)
    , m_sha256(EVP_MD_fetch(ctx, "SHA2-256", nullptr))
    , m_sha1(EVP_MD_fetch(ctx, "SHA1", nullptr))
{ }

LibContext::~LibContext()
{
    EVP_MD_free(m_sha256);
    EVP_MD_free(m_sha1);
    if (m_owned)
        OSSL_LIB_CTX_free(m_ctx);
}

std::unique_ptr<LibContext> LibContext::create()
{
    OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();
    if (!ctx) {
        drainErrors();
        return nullptr;
    }
    std::unique_ptr<LibContext> context(new LibContext(ctx, true));
    if (!context->m_sha256 || !context->m_sha1) {
        drainErrors();
        return nullptr;
    }
    return context;
}

const LibContext &LibContext::global()
{
    // Never freed: threads may still digest while the process exits.
    static const LibContext *const context = new LibContext(nullptr, false);
    return *context;
}

X509Ptr decodeCertificate(const LibContext &context, QByteArrayView der, qsizetype *consumed)
{
    const auto *begin = reinterpret_cast<const unsigned char *>(der.data());
    const unsigned char *p = begin;
    // Into an object made in the context, so that the key is decoded there. ASN1_item_d2i rather
    // than d2i_X509: the latter caches the extensions of an existing object at once and fails on
    // any it cannot read, which decoding into a fresh object does not.
    X509 *cert = X509_new_ex(context.get(), nullptr);
    if (!cert)
        return nullptr;
    // On failure ASN1_item_d2i frees the object and clears the pointer.
    ASN1_item_d2i(reinterpret_cast<ASN1_VALUE **>(&cert), &p, long(der.size()), ASN1_ITEM_rptr(X509));
    X509Ptr owned(cert);
    if (consumed)
        *consumed = owned ? p - begin : 0;
    return owned;
}

QString drainErrors()
{
    QStringList reasons;
    unsigned long code = 0;
    const char *data = nullptr;
    int flags = 0;
    while ((code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
        QString reason = QString::fromLatin1(ERR_reason_error_string(code));
        if (reason.isEmpty())
            reason = QStringLiteral("error %1").arg(code, 0, 16);
        if (const char *lib = ERR_lib_error_string(code))
            reason = QString::fromLatin1(lib) + QStringLiteral(": ") + reason;
        if ((flags & ERR_TXT_STRING) && data && *data)
            reason += QStringLiteral(" (") + QString::fromUtf8(data) + QLatin1Char(')');
        if (!reasons.contains(reason))
            reasons.append(reason);
    }
    return reasons.join(QStringLiteral("; "));
}

Error error(const QString &code, const QString &context)
{
    const QString reasons = drainErrors();
    return Error { code, reasons.isEmpty() ? context : context + QStringLiteral(": ") + reasons };
}

QDateTime toDateTime(const ASN1_TIME *time)
{
    if (!time)
        return {};
    struct tm tm = {};
    if (ASN1_TIME_to_tm(time, &tm) != 1) {
        drainErrors();
        return {};
    }
    return QDateTime(QDate(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
                     QTime(tm.tm_hour, tm.tm_min, tm.tm_sec), Qt::UTC);
}

QString toString(const ASN1_STRING *string)
{
    if (!string)
        return {};
    unsigned char *utf8 = nullptr;
    const int length = ASN1_STRING_to_UTF8(&utf8, string);
    if (length < 0) {
        drainErrors();
        return {};
    }
    QString result = QString::fromUtf8(reinterpret_cast<const char *>(utf8), length);
    OPENSSL_free(utf8);
    return result;
}

QString nameToString(const X509_NAME *name)
{
    if (!name)
        return {};
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0) {
        drainErrors();
        return {};
    }
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    return QString::fromUtf8(data, length);
}

QString oidToString(const ASN1_OBJECT *object)
{
    char buffer[128];
    const int length = OBJ_obj2txt(buffer, sizeof buffer, object, 1);
    if (length <= 0)
        return {};
    return QString::fromLatin1(buffer, qMin<int>(length, sizeof buffer - 1));
}

QString oidName(const ASN1_OBJECT *object)
{
    const int nid = OBJ_obj2nid(object);
    if (nid != NID_undef)
        return QString::fromLatin1(OBJ_nid2ln(nid));
    return oidToString(object);
}

QByteArray toByteArray(const ASN1_STRING *string)
{
    if (!string)
        return {};
    return QByteArray(reinterpret_cast<const char *>(ASN1_STRING_get0_data(string)),
                      ASN1_STRING_length(string));
}

namespace {

// The DER of an OpenSSL object through its i2d function: asked for the length, then written.
template<typename T> QByteArray derOf(const T *object, int (*i2d)(const T *, unsigned char **))
{
    const int length = i2d(object, nullptr);
    if (length <= 0) {
        drainErrors();
        return {};
    }
    QByteArray out(length, Qt::Uninitialized);
    auto *p = reinterpret_cast<unsigned char *>(out.data());
    i2d(object, &p);
    return out;
}

} // namespace

QByteArray der(const X509 *cert)
{
    return derOf(cert, i2d_X509);
}

QByteArray der(const X509_CRL *crl)
{
    return derOf(crl, i2d_X509_CRL);
}

QString serialHex(const X509 *cert)
{
    std::unique_ptr<BIGNUM, Deleter<BN_free>> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
    if (!bn) {
        drainErrors();
        return {};
    }
    char *hex = BN_bn2hex(bn.get());
    QString serial = QString::fromLatin1(hex);
    OPENSSL_free(hex);
    return serial;
}

} // namespace certsync::ossl
