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
QString serialHex(const X509 *cert); // uppercase hex without separators, as Windows shows it

} // namespace certsync::ossl
