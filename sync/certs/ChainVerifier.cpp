#include "certs/ChainVerifier.h"

#include <openssl/x509v3.h>

namespace certsync::certs {

namespace {

struct Finding
{
    int depth;
    int error;
};

// Collects every verification error instead of stopping at the first, so that a person sees, for
// example, both a missing intermediate and a revoked leaf.
int collectFindings(int ok, X509_STORE_CTX *ctx)
{
    if (!ok) {
        auto *findings = static_cast<std::vector<Finding> *>(X509_STORE_CTX_get_app_data(ctx));
        findings->push_back({X509_STORE_CTX_get_error_depth(ctx), X509_STORE_CTX_get_error(ctx)});
    }
    return 1;
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

ChainVerifier::ChainVerifier(const TrustStore &trust)
    : m_trust(trust)
{
}

ChainResult ChainVerifier::verify(X509 *leaf, const std::vector<X509 *> &extraIntermediates, Role role) const
{
    ChainResult result;
    ossl::X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    std::unique_ptr<STACK_OF(X509), UntrustedStackDeleter> untrusted(sk_X509_new_null());
    if (!ctx || !untrusted) {
        result.status = ChainStatus::Invalid;
        result.message = ossl::drainErrors();
        return result;
    }
    for (X509 *cert : extraIntermediates)
        if (cert != leaf)
            sk_X509_push(untrusted.get(), cert);
    for (const ossl::X509Ptr &cert : m_trust.intermediates())
        sk_X509_push(untrusted.get(), cert.get());

    if (X509_STORE_CTX_init(ctx.get(), m_trust.store(), leaf, untrusted.get()) != 1) {
        result.status = ChainStatus::Invalid;
        result.message = ossl::drainErrors();
        return result;
    }
    std::vector<Finding> findings;
    X509_STORE_CTX_set_app_data(ctx.get(), &findings);
    X509_STORE_CTX_set_verify_cb(ctx.get(), collectFindings);
    X509_STORE_CTX_set_purpose(ctx.get(), role == Role::SmimeLeaf ? X509_PURPOSE_SMIME_SIGN : X509_PURPOSE_ANY);
    unsigned long flags = X509_V_FLAG_NO_CHECK_TIME; // expiry is judged per certificate
    if (m_trust.hasCrls())
        flags |= X509_V_FLAG_CRL_CHECK;
    X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx.get()), flags);

    X509_verify_cert(ctx.get());
    ossl::drainErrors();

    const STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx.get());
    const int length = chain ? sk_X509_num(chain) : 0;
    const int untrustedCount = X509_STORE_CTX_get_num_untrusted(ctx.get());
    for (int i = 0; i < length; ++i) {
        X509 *cert = sk_X509_value(chain, i);
        ChainElement element;
        element.subject = ossl::nameToString(X509_get_subject_name(cert));
        element.issuer = ossl::nameToString(X509_get_issuer_name(cert));
        element.notBefore = ossl::toDateTime(X509_get0_notBefore(cert));
        element.notAfter = ossl::toDateTime(X509_get0_notAfter(cert));
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdLength = 0;
        if (X509_digest(cert, EVP_sha256(), md, &mdLength) == 1)
            element.sha256 = QByteArray(reinterpret_cast<const char *>(md), int(mdLength));
        element.isAnchor = i >= untrustedCount;
        result.chain.append(element);
    }
    if (result.chain.isEmpty()) // nothing was built: still show the leaf
        result.chain.append(ChainElement{ossl::nameToString(X509_get_subject_name(leaf)),
                                         ossl::nameToString(X509_get_issuer_name(leaf)), {}, {}, {}, {}, false,
                                         false, {}});

    result.status = ChainStatus::Trusted;
    bool crlMissingForLeaf = false;
    for (const Finding &finding : findings) {
        const QString text = QString::fromLatin1(X509_verify_cert_error_string(finding.error));
        if (finding.depth >= 0 && finding.depth < result.chain.size()) {
            ChainElement &element = result.chain[finding.depth];
            if (!element.problems.contains(text))
                element.problems.append(text);
            if (finding.error == X509_V_ERR_CERT_REVOKED)
                element.revoked = true;
        }
        if (finding.depth == 0
            && (finding.error == X509_V_ERR_UNABLE_TO_GET_CRL || finding.error == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER))
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
