#include "certs/ChainVerifier.h"

#include <QHash>
#include <QSet>

#include <openssl/x509v3.h>

namespace certsync::certs {

namespace {

struct Finding
{
    int depth;
    int error;
};

// A CRL whose signature was checked once, when the verifier was made, against a certificate of the
// fast path's store.
struct CrlIssuedBy
{
    const X509_CRL *crl;
    const X509 *issuer;
    friend bool operator==(const CrlIssuedBy &, const CrlIssuedBy &) = default;
};

size_t qHash(const CrlIssuedBy &key, size_t seed = 0) noexcept
{
    return qHashMulti(seed, key.crl, key.issuer);
}

// The fast path's memory of CRL signatures it checked once (see checkCrlOnce).
struct CrlShortcut
{
    QSet<CrlIssuedBy> verified; // plain CRLs whose signature verified with that store certificate
    X509_STORE_CTX_check_crl_fn openssl = nullptr; // OpenSSL's own check, for everything else
};

// What one X509_verify_cert call carries to the callbacks.
struct VerifyCall
{
    std::vector<Finding> findings;
    const CrlShortcut *crls = nullptr; // set on the fast path
};

// Collects every verification error instead of stopping at the first, so that a person sees, for
// example, both a missing intermediate and a revoked leaf.
int collectFindings(int ok, X509_STORE_CTX *ctx)
{
    if (!ok) {
        auto *call = static_cast<VerifyCall *>(X509_STORE_CTX_get_app_data(ctx));
        call->findings.push_back({ X509_STORE_CTX_get_error_depth(ctx), X509_STORE_CTX_get_error(ctx) });
    }
    return 1;
}

// A CRL that OpenSSL would accept the same way for every leaf: no issuing distribution point (full
// scope, nothing to be invalid), not a delta CRL.
bool plainCrl(const X509_CRL *crl)
{
    return X509_CRL_get_ext_by_NID(crl, NID_issuing_distribution_point, -1) < 0
        && X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) < 0;
}

// OpenSSL's check_crl verifies the CRL's signature again for every certificate it checks: with one
// CRL per issuing CA, that is one more signature check per leaf than the chain itself needs. On the
// fast path a plain CRL issued by the leaf's immediate issuer, a certificate of the store, had its
// signature checked against exactly that certificate when the verifier was made; what else
// OpenSSL's check does for such a CRL cannot fail under this verifier's flags
// (X509_V_FLAG_NO_CHECK_TIME: expiry is judged per certificate; no Suite B), except the issuer's
// key usage, checked here. Everything else, and any CRL whose signature did not verify, goes to
// OpenSSL's own check, which reports it.
int checkCrlOnce(X509_STORE_CTX *ctx, X509_CRL *crl)
{
    const CrlShortcut *crls = static_cast<const VerifyCall *>(X509_STORE_CTX_get_app_data(ctx))->crls;
    if (crls == nullptr || crls->openssl == nullptr)
        return 0; // never: installed on the fast path's store only
    X509 *issuer = X509_STORE_CTX_get0_current_issuer(ctx);
    const STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    const int depth = X509_STORE_CTX_get_error_depth(ctx);
    if (issuer && chain && depth + 1 < sk_X509_num(chain) && sk_X509_value(chain, depth + 1) == issuer
        && crls->verified.contains({ crl, issuer })
        && ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) == 0
            || (X509_get_key_usage(issuer) & KU_CRL_SIGN) != 0))
        return 1;
    return crls->openssl(ctx, crl);
}

struct UntrustedStackDeleter
{
    void operator()(STACK_OF(X509) * s) const noexcept { sk_X509_free(s); } // borrowed certificates
};

// Ranks outcomes: the most serious finding decides the chain's status.
int rank(ChainStatus status)
{
    switch (status) {
    case ChainStatus::Trusted:
        return 0;
    case ChainStatus::Untrusted:
        return 1;
    case ChainStatus::Incomplete:
        return 2;
    case ChainStatus::Invalid:
        return 3;
    case ChainStatus::Revoked:
        return 4;
    }
    return 0;
}

std::optional<ChainStatus> classify(const Finding &finding)
{
    switch (finding.error) {
    case X509_V_ERR_CERT_REVOKED:
        return ChainStatus::Revoked;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return ChainStatus::Incomplete;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return ChainStatus::Untrusted;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
        return std::nullopt; // no revocation information: reported as "not checked", not as a failure
    case X509_V_ERR_INVALID_PURPOSE:
        // The leaf's own key usage and EKU are the judge's business (with clearer codes); a CA
        // that may not issue S/MIME certificates breaks the chain.
        if (finding.depth == 0)
            return std::nullopt;
        return ChainStatus::Invalid;
    default:
        return ChainStatus::Invalid;
    }
}

} // namespace

QString chainStatusName(ChainStatus status)
{
    switch (status) {
    case ChainStatus::Trusted:
        return QStringLiteral("trusted");
    case ChainStatus::Incomplete:
        return QStringLiteral("incomplete");
    case ChainStatus::Untrusted:
        return QStringLiteral("untrusted");
    case ChainStatus::Revoked:
        return QStringLiteral("revoked");
    case ChainStatus::Invalid:
        return QStringLiteral("invalid");
    }
    return {};
}

struct ChainVerifier::Fast
{
    ossl::X509StorePtr store; // anchors + pre-verified intermediates, for partial chains
    QHash<const X509 *, QList<ChainElement>> tails; // intermediate -> its verified path above it
    QHash<const X509 *, ChainElement> elements; // the store's certificates, described once
    CrlShortcut crls;
};

namespace {

ChainElement describeElement(X509 *cert, const EVP_MD *sha256)
{
    ChainElement element;
    element.subject = ossl::nameToString(X509_get_subject_name(cert));
    element.issuer = ossl::nameToString(X509_get_issuer_name(cert));
    element.serialHex = ossl::serialHex(cert);
    element.notBefore = ossl::toDateTime(X509_get0_notBefore(cert));
    element.notAfter = ossl::toDateTime(X509_get0_notAfter(cert));
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdLength = 0;
    if (X509_digest(cert, sha256, md, &mdLength) == 1)
        element.sha256 = QByteArray(reinterpret_cast<const char *>(md), int(mdLength));
    else
        ossl::drainErrors();
    return element;
}

// Checks once which plain CRLs each certificate of the fast path's store signed, and installs
// checkCrlOnce in front of OpenSSL's own check.
void rememberCrlSignatures(CrlShortcut &crls, X509_STORE *store,
                           const QHash<const X509 *, ChainElement> &storeCertificates,
                           const TrustStore &trust)
{
    if (!trust.hasCrls())
        return;
    ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new_ex(trust.context().get(), nullptr));
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store, nullptr, nullptr) != 1)
        return; // OpenSSL's check for every CRL, as without the fast path
    crls.openssl = X509_STORE_CTX_get_check_crl(ctx.get()); // before ours is installed
    if (!crls.openssl)
        return;
    for (const ossl::X509CrlPtr &crl : trust.crls()) {
        if (!plainCrl(crl.get()))
            continue;
        for (auto it = storeCertificates.cbegin(); it != storeCertificates.cend(); ++it) {
            X509 *issuer = const_cast<X509 *>(it.key()); // OpenSSL's getters take it non-const
            EVP_PKEY *key = X509_get0_pubkey(issuer);
            if (key && X509_NAME_cmp(X509_get_subject_name(issuer), X509_CRL_get_issuer(crl.get())) == 0
                && X509_CRL_verify(crl.get(), key) == 1)
                crls.verified.insert({ crl.get(), issuer });
        }
    }
    X509_STORE_set_check_crl(store, checkCrlOnce);
}

} // namespace

ChainVerifier::ChainVerifier(const TrustStore &trust)
    : m_trust(trust)
{
    if (trust.intermediates().empty())
        return;
    auto fast = std::make_unique<Fast>();
    fast->store.reset(X509_STORE_new());
    if (!fast->store
        || (trust.usesSystemAnchors()
            && X509_STORE_set_default_paths_ex(fast->store.get(), trust.context().get(), nullptr) != 1)) {
        ossl::drainErrors();
        return; // no fast path: every chain is verified in full
    }
    for (const ossl::X509Ptr &anchor : trust.anchors()) {
        X509_STORE_add_cert(fast->store.get(), anchor.get());
        fast->elements.insert(anchor.get(), describeElement(anchor.get(), trust.context().sha256()));
    }
    for (const ossl::X509CrlPtr &crl : trust.crls())
        X509_STORE_add_crl(fast->store.get(), crl.get());
    for (const ossl::X509Ptr &intermediate : trust.intermediates()) {
        const ChainResult full =
            verifyWith(trust.store(), false, intermediate.get(), {}, Role::Issuer, nullptr);
        if (!full.trusted())
            continue; // never shortcut through a CA that does not itself verify
        X509_STORE_add_cert(fast->store.get(), intermediate.get());
        fast->tails.insert(intermediate.get(), full.chain.mid(1));
        fast->elements.insert(intermediate.get(), full.chain.first());
    }
    rememberCrlSignatures(fast->crls, fast->store.get(), fast->elements, trust);
    ossl::drainErrors();
    m_fast = std::move(fast);
}

ChainVerifier::~ChainVerifier() = default;
ChainVerifier::ChainVerifier(ChainVerifier &&) noexcept = default;

int ChainVerifier::preverifiedIntermediates() const
{
    return m_fast ? int(m_fast->tails.size()) : 0;
}

ChainResult ChainVerifier::verify(X509 *leaf, const std::vector<X509 *> &extraIntermediates, Role role,
                                  const Certificate *leafInfo, bool *fromStore) const
{
    if (fromStore)
        *fromStore = false;
    if (m_fast) {
        ChainResult fast = verifyWith(m_fast->store.get(), true, leaf, extraIntermediates, role, leafInfo);
        if (fast.trusted()) {
            // The chain stops at a pre-verified intermediate (or at an anchor): append the
            // intermediate's verified path, and it is no longer the chain's anchor.
            if (const auto above = m_fast->tails.constFind(fast.topCertificate);
                above != m_fast->tails.cend() && !above->isEmpty()) {
                fast.chain.last().isAnchor = false;
                fast.chain += *above;
            }
            fast.topCertificate = nullptr;
            if (fromStore)
                *fromStore = true;
            return fast;
        }
    }
    ChainResult full = verifyWith(m_trust.store(), false, leaf, extraIntermediates, role, leafInfo);
    full.topCertificate = nullptr;
    return full;
}

ChainResult ChainVerifier::verifyWith(X509_STORE *store, bool partialChain, X509 *leaf,
                                      const std::vector<X509 *> &extraIntermediates, Role role,
                                      const Certificate *leafInfo) const
{
    ChainResult result;
    ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new_ex(m_trust.context().get(), nullptr));
    std::unique_ptr<STACK_OF(X509), UntrustedStackDeleter> untrusted(sk_X509_new_null());
    if (!ctx || !untrusted) {
        result.status = ChainStatus::Invalid;
        result.message = ossl::drainErrors();
        return result;
    }
    for (X509 *cert : extraIntermediates)
        if (cert != leaf)
            sk_X509_push(untrusted.get(), cert);
    if (!partialChain) // on the fast path the intermediates are in the store itself
        for (const ossl::X509Ptr &cert : m_trust.intermediates())
            sk_X509_push(untrusted.get(), cert.get());

    if (X509_STORE_CTX_init(ctx.get(), store, leaf, untrusted.get()) != 1) {
        result.status = ChainStatus::Invalid;
        result.message = ossl::drainErrors();
        return result;
    }
    VerifyCall call;
    if (m_fast && store == m_fast->store.get())
        call.crls = &m_fast->crls;
    X509_STORE_CTX_set_app_data(ctx.get(), &call);
    X509_STORE_CTX_set_verify_cb(ctx.get(), collectFindings);
    X509_STORE_CTX_set_purpose(ctx.get(),
                               role == Role::SmimeLeaf ? X509_PURPOSE_SMIME_SIGN : X509_PURPOSE_ANY);
    // Expiry is judged per certificate. Trusted first (OpenSSL's default, stated here because
    // verify()'s `fromStore` relies on it): issuers come from the store before extra intermediates.
    unsigned long flags = X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_TRUSTED_FIRST;
    if (m_trust.hasCrls())
        flags |= X509_V_FLAG_CRL_CHECK;
    if (partialChain)
        flags |= X509_V_FLAG_PARTIAL_CHAIN;
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), flags);

    X509_verify_cert(ctx.get());
    ossl::drainErrors();

    const STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx.get());
    const int length = chain ? sk_X509_num(chain) : 0;
    const int untrustedCount = X509_STORE_CTX_get_num_untrusted(ctx.get());
    for (int i = 0; i < length; ++i) {
        X509 *cert = sk_X509_value(chain, i);
        ChainElement element;
        if (i == 0 && leafInfo && cert == leaf) {
            element = ChainElement { leafInfo->subject,
                                     leafInfo->issuer,
                                     leafInfo->serialHex,
                                     leafInfo->sha256,
                                     leafInfo->notBefore,
                                     leafInfo->notAfter,
                                     false,
                                     false,
                                     {} };
        } else if (m_fast && m_fast->elements.contains(cert)) {
            element = m_fast->elements.value(cert);
        } else {
            element = describeElement(cert, m_trust.context().sha256());
        }
        element.isAnchor = i >= untrustedCount;
        result.chain.append(element);
        result.topCertificate = cert;
    }
    if (result.chain.isEmpty()) // nothing was built: still show the leaf
        result.chain.append(ChainElement { ossl::nameToString(X509_get_subject_name(leaf)),
                                           ossl::nameToString(X509_get_issuer_name(leaf)),
                                           {},
                                           {},
                                           {},
                                           {},
                                           false,
                                           false,
                                           {} });

    result.status = ChainStatus::Trusted;
    bool crlMissingForLeaf = false;
    for (const Finding &finding : call.findings) {
        const QString text = QString::fromLatin1(X509_verify_cert_error_string(finding.error));
        const bool noRevocationInfo = finding.error == X509_V_ERR_UNABLE_TO_GET_CRL
            || finding.error == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER;
        // Missing revocation information is not a defect of the certificate: it shows as
        // revocationChecked == false, not as a problem on the element.
        if (!noRevocationInfo && finding.depth >= 0 && finding.depth < result.chain.size()) {
            ChainElement &element = result.chain[finding.depth];
            if (!element.problems.contains(text))
                element.problems.append(text);
            if (finding.error == X509_V_ERR_CERT_REVOKED)
                element.revoked = true;
        }
        if (finding.depth == 0
            && (finding.error == X509_V_ERR_UNABLE_TO_GET_CRL
                || finding.error == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER))
            crlMissingForLeaf = true;
        const std::optional<ChainStatus> status = classify(finding);
        if (status && rank(*status) > rank(result.status)) {
            result.status = *status;
            result.opensslError = finding.error;
            result.message = text;
        }
    }
    // A leaf that is itself an anchor, or a chain that stops at a non-anchor without a finding,
    // must not pass as trusted.
    if (result.status == ChainStatus::Trusted && (result.chain.isEmpty() || !result.chain.last().isAnchor)) {
        result.status = ChainStatus::Incomplete;
        result.message = QStringLiteral("the chain does not end at a trust anchor");
    }
    result.revocationChecked = m_trust.hasCrls() && !crlMissingForLeaf;
    return result;
}

} // namespace certsync::certs
