#pragma once

#include "certs/OpenSsl.h"
#include "core/Result.h"

#include <QStringList>

#include <functional>
#include <vector>

namespace certsync::certs {

// Where trust comes from. Anchors are roots an organisation trusts for S/MIME; intermediates are
// offered to chain building but never trusted on their own; CRLs enable revocation checks.
struct TrustSettings
{
    bool useSystemAnchors = false; // Debian's /etc/ssl/certs bundle
    QStringList anchorFiles; // PEM or DER files, each may hold several certificates
    QStringList anchorDirectories;
    QStringList intermediateFiles;
    QStringList intermediateDirectories;
    QStringList crlFiles; // PEM or DER
    // Mixed PEM bundles (the CLI's --trust): self-signed CA certificates become anchors, the rest
    // intermediates.
    QStringList bundleFiles;
};

// An immutable, loaded trust configuration. Safe to share between threads once built: verification
// only reads it.
class TrustStore
{
public:
    // How far a load is: bytes of the configured files read of their total size, and the file being
    // read. Returning false stops the load (error code "canceled"). Called on the loading thread.
    using LoadProgress = std::function<bool(qint64 done, qint64 total, const QString &file)>;

    // Reads every configured file. A large bundle or CRL takes seconds: the console loads on a
    // worker with `progress` (which also cancels), never on the GUI thread.
    static Result<TrustStore> load(const TrustSettings &settings, const LoadProgress &progress = {});
    TrustStore(TrustStore &&) noexcept = default;
    TrustStore &operator=(TrustStore &&) noexcept = default;

    // The same trust, decoded again into another OpenSSL library context (a worker thread's own:
    // see ossl::LibContext). `context` must outlive the copy.
    [[nodiscard]] Result<TrustStore> inContext(const ossl::LibContext &context) const;
    [[nodiscard]] const ossl::LibContext &context() const { return *m_context; }

    [[nodiscard]] X509_STORE *store() const { return m_store.get(); }
    [[nodiscard]] const std::vector<ossl::X509Ptr> &intermediates() const { return m_intermediates; }
    [[nodiscard]] const std::vector<ossl::X509Ptr> &anchors() const { return m_anchors; }
    [[nodiscard]] const std::vector<ossl::X509CrlPtr> &crls() const { return m_crls; }
    [[nodiscard]] bool hasCrls() const { return m_crlCount > 0; }
    [[nodiscard]] bool usesSystemAnchors() const { return m_system; }
    [[nodiscard]] int anchorCount() const { return m_anchorCount; }
    [[nodiscard]] int crlCount() const { return m_crlCount; }
    // SHA-256 over everything a chain verdict depends on: the configured anchors, intermediates and
    // CRLs (their DER, in load order), and the system bundle's bytes when it is used. Analyses
    // remembered across runs are keyed with it, so new trust or a new CRL means a fresh verdict.
    [[nodiscard]] const QByteArray &fingerprint() const { return m_fingerprint; }

private:
    TrustStore() = default;
    static QByteArray fingerprintOf(const TrustStore &trust);
    const ossl::LibContext *m_context = &ossl::LibContext::global();
    ossl::X509StorePtr m_store;
    std::vector<ossl::X509Ptr> m_intermediates;
    std::vector<ossl::X509Ptr> m_anchors; // configured ones; the system bundle is not listed
    std::vector<ossl::X509CrlPtr> m_crls;
    int m_anchorCount = 0;
    int m_crlCount = 0;
    bool m_system = false;
    QByteArray m_fingerprint;
};

} // namespace certsync::certs
