#pragma once

#include "certs/Certificate.h"
#include "certs/TrustStore.h"

#include <QDateTime>
#include <QList>
#include <QString>

#include <memory>
#include <vector>

namespace certsync::certs {

// The verdict on a chain as a whole. Time validity is deliberately not part of it: the judge reports
// expiry per certificate, so that an expired certificate still shows whether its chain is trusted.
// Invalid stays last: the analysis cache's reader refuses values above it (StateStore.cpp, get()).
enum class ChainStatus {
    Trusted, // leads to a configured anchor, every signature verifies
    Incomplete, // an issuer could not be found (missing intermediate)
    Untrusted, // complete, but ends at a root that is not a trust anchor (or is self-signed itself)
    Revoked, // a CRL lists a certificate of the chain
    Invalid, // a signature does not verify, or a CA certificate may not issue
};
QString chainStatusName(ChainStatus status);

struct ChainElement
{
    QString subject;
    QString issuer;
    QString serialHex;
    QByteArray sha256;
    QDateTime notBefore;
    QDateTime notAfter;
    bool isAnchor = false;
    bool revoked = false;
    QStringList problems; // OpenSSL's verification messages for this depth
};

struct ChainResult
{
    ChainStatus status = ChainStatus::Incomplete;
    QList<ChainElement> chain; // leaf first, then intermediates, then the root when found
    int opensslError = 0; // the first significant X509_V_ERR_*, 0 when trusted
    QString message; // the same in words
    bool revocationChecked = false; // CRLs were configured and the leaf's issuer had one
    const X509 *topCertificate = nullptr; // internal: the last certificate OpenSSL built, while verifying
    [[nodiscard]] bool trusted() const { return status == ChainStatus::Trusted; }
};

// Builds and verifies chains with OpenSSL's X509_STORE for the S/MIME purpose. Thread-safe: each
// call makes its own verification context over the shared, read-only stores.
//
// The configured intermediates are verified once, when the verifier is made. A leaf's chain may then
// stop at such a pre-verified intermediate (OpenSSL's partial-chain mode) and the intermediate's own,
// already verified, path to the anchor is appended: that saves verifying the same CA signature again
// for every leaf. Whatever is not trusted on that fast path is verified again in full, so that
// diagnostics are exactly OpenSSL's.
class ChainVerifier
{
public:
    explicit ChainVerifier(const TrustStore &trust);
    ~ChainVerifier();
    ChainVerifier(ChainVerifier &&) noexcept;

    // What the certificate at the bottom of the chain is checked as: a user's S/MIME certificate, or
    // an issuing CA that came along in a PKCS#7 bag.
    enum class Role { SmimeLeaf, Issuer };

    // `extraIntermediates` are untrusted certificates offered for chain building (the PKCS#7 bag).
    // `leafInfo`, when given, is the leaf already described by parseDer()/describe(): its chain
    // element is taken from there instead of being formatted again. `fromStore`, when given, tells
    // whether the chain is trusted and every issuer in it came from the trust store (the
    // pre-verified intermediates or the anchors): OpenSSL looks there first, so other
    // `extraIntermediates` would have built the same chain.
    // Verification runs in the trust store's library context; `leaf` and the extra intermediates
    // are best decoded into it too (OpenSSL accepts others, at the cost of the shared locks).
    ChainResult verify(X509 *leaf, const std::vector<X509 *> &extraIntermediates = {},
                       Role role = Role::SmimeLeaf, const Certificate *leafInfo = nullptr,
                       bool *fromStore = nullptr) const;

    // How many configured intermediates were verified up front (for diagnostics and tests).
    [[nodiscard]] int preverifiedIntermediates() const;

private:
    struct Fast;
    ChainResult verifyWith(X509_STORE *store, bool partialChain, X509 *leaf,
                           const std::vector<X509 *> &extraIntermediates, Role role,
                           const Certificate *leafInfo) const;

    const TrustStore &m_trust;
    std::unique_ptr<Fast> m_fast;
};

} // namespace certsync::certs
