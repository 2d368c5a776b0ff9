#pragma once

// Ownership of OpenSSL handles, and the error queue turned into a typed Error.
// Every handle has exactly one owner; nothing in certsync frees an OpenSSL object by hand.

#include "core/Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QDateTime>
#include <QString>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>

namespace certsync::ossl {

template<auto FreeFn> struct Deleter
{
    template<typename T> void operator()(T *p) const noexcept { FreeFn(p); }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, Deleter<X509_CRL_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using Asn1TypePtr = std::unique_ptr<ASN1_TYPE, Deleter<ASN1_TYPE_free>>;

// A STACK_OF(X509) that owns its certificates.
struct X509StackDeleter
{
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackDeleter>;

// Call first thing in main(), before anything else touches OpenSSL: OpenSSL then leaves its state
// in place at exit instead of freeing it from an atexit handler. Threads that Qt owns (the
// network access manager's HTTP thread) can still be ending while the process exits; once that
// handler has run, their per-thread state (DRBGs, error queue) could no longer be freed by the
// thread's own exit, and under LeakSanitizer such a run failed at random.
void initialiseForProcess();

// A new reference to the same certificate (X509 objects are reference counted).
X509Ptr share(X509 *cert);

// An OpenSSL library context and the digests certsync uses, fetched from it once (EVP_sha256()
// and friends fetch implicitly on every use in OpenSSL 3). OpenSSL 3.0 guards a context's method
// stores, name map and decoders with locks that every d2i_X509, X509_verify and digest takes;
// with one context per worker thread two cores stop meeting on them. A context and everything
// decoded into it are then used by that one thread only. Not copyable; free it after its objects.
class LibContext
{
public:
    // A context of its own (the default provider loads on first use); null when OpenSSL cannot
    // make one (the error queue is drained).
    static std::unique_ptr<LibContext> create();
    // OpenSSL's default context, shared by every thread: for files, the CLI, tests.
    static const LibContext &global();
    ~LibContext();
    LibContext(const LibContext &) = delete;
    LibContext &operator=(const LibContext &) = delete;

    [[nodiscard]] OSSL_LIB_CTX *get() const { return m_ctx; } // null for the default context
    [[nodiscard]] const EVP_MD *sha256() const { return m_sha256; }
    [[nodiscard]] const EVP_MD *sha1() const { return m_sha1; }

private:
    LibContext(OSSL_LIB_CTX *ctx, bool owned);
    OSSL_LIB_CTX *m_ctx = nullptr;
    bool m_owned = false;
    EVP_MD *m_sha256 = nullptr;
    EVP_MD *m_sha1 = nullptr;
};

// Decodes one DER certificate at the start of `der` into `context` (its key, signature checks and
// extension cache then use that context); `consumed` gets the bytes it took. Null with OpenSSL's
// errors queued on failure. Like d2i_X509(nullptr, ...) and unlike d2i_X509 into an existing
// object, an unusual extension does not fail the decoding: extensions are cached when first used.
X509Ptr decodeCertificate(const LibContext &context, QByteArrayView der, qsizetype *consumed);

// Drains OpenSSL's thread-local error queue into one readable sentence (innermost reason last).
// Call on every failure path so that a stale error never leaks into the next operation.
QString drainErrors();
Error error(const QString &code, const QString &context);

// Conversions.
QDateTime toDateTime(const ASN1_TIME *time);
QString toString(const ASN1_STRING *string);
QString nameToString(const X509_NAME *name); // RFC 4514
QString oidToString(const ASN1_OBJECT *object); // dotted numeric form
QString oidName(const ASN1_OBJECT *object); // long name where OpenSSL knows one, else dotted
QByteArray toByteArray(const ASN1_STRING *string);
QByteArray der(const X509 *cert);
QByteArray der(const X509_CRL *crl);
QString serialHex(const X509 *cert); // uppercase hex without separators, as Windows shows it

} // namespace certsync::ossl
