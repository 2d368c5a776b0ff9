#pragma once

#include "certs/CertificateJudge.h"
#include "certs/ChainVerifier.h"
#include "certs/SmimeValue.h"

#include <QByteArray>
#include <QDateTime>
#include <QHash>
#include <QList>
#include <QMutex>

#include <memory>
#include <optional>

namespace certsync::certs {

// One certificate of a value, with its chain and problems. `isUsers` marks the user's certificate
// in a PKCS#7 bag; the others are the issuing CAs that came along.
struct JudgedCertificate
{
    Certificate certificate;
    ChainResult chain;
    ProblemSet problems;
    bool isUsers = true;
    [[nodiscard]] Status status() const { return problems.status(); }
};

// One directory value, analysed: the unit of the inventory CSV (one row per certificate inside).
struct AnalyzedValue
{
    Attribute attribute = Attribute::UserCertificate;
    int index = 0; // position in the attribute, as the directory returned it
    ValueKind kind = ValueKind::Invalid;
    QByteArray sha256; // of the raw value bytes: the cache key
    int size = 0; // bytes
    QString error; // parse error text for invalid values
    bool bareCertificate = false;
    bool pkcs7Signed = false;
    QString userChoice;
    QList<SmimeCapability> capabilities;
    QList<JudgedCertificate> certificates;
    ProblemSet valueProblems; // parse_error, duplicate, over_limit: apply to every row of the value

    [[nodiscard]] const JudgedCertificate *usersCertificate() const;
    [[nodiscard]] ProblemSet problemsOf(int certificateIndex) const; // certificate's | value's
};

// What is expensive about a value (parsing, chain building) and does not depend on the time or the
// user. Keyed by the SHA-256 of the raw value and the trust it was verified under, so each distinct
// value is parsed once per trust configuration.
struct CachedAnalysis
{
    ValueKind kind = ValueKind::Invalid;
    QString error;
    bool bareCertificate = false;
    bool pkcs7Signed = false;
    QString userChoice;
    int userIndex = -1;
    QList<SmimeCapability> capabilities;
    QList<Certificate> certificates;
    QList<ChainResult> chains; // same order as certificates
};

// Where analyses are remembered. The in-memory one below serves a single run; the state database
// implements the same interface to remember them across runs.
class AnalysisCache
{
public:
    virtual ~AnalysisCache() = default;
    // The key is the SHA-256 of the trust store's fingerprint followed by the value's SHA-256.
    virtual std::optional<CachedAnalysis> find(const QByteArray &key) = 0;
    virtual void insert(const QByteArray &key, const CachedAnalysis &analysis) = 0;
};

class MemoryAnalysisCache final : public AnalysisCache
{
public:
    std::optional<CachedAnalysis> find(const QByteArray &valueSha256) override;
    void insert(const QByteArray &valueSha256, const CachedAnalysis &analysis) override;
    [[nodiscard]] qsizetype size() const;

private:
    mutable QMutex m_mutex;
    QHash<QByteArray, CachedAnalysis> m_entries;
};

// Analyses directory values: decode, build and verify chains, judge. Thread-safe; share one between
// worker threads. Each thread that calls it gets an OpenSSL library context of its own, with its
// own copy of the trust store, made on its first call and freed with the analyzer: in OpenSSL 3.0
// threads that share a context serialise on its locks (see ossl::LibContext).
class ValueAnalyzer
{
public:
    ValueAnalyzer(const TrustStore &trust, CertificateJudge judge, AnalysisCache *cache = nullptr);
    ~ValueAnalyzer();
    ValueAnalyzer(const ValueAnalyzer &) = delete;
    ValueAnalyzer &operator=(const ValueAnalyzer &) = delete;

    [[nodiscard]] AnalyzedValue analyze(Attribute attribute, int index, const QByteArray &bytes,
                                        const UserContext &user, const QDateTime &now) const;

    // Both attributes of one user, with the set-level problems (duplicates, over the limit) marked.
    // A certificate that a userSMIMECertificate bag repeats from userCertificate is decoded and
    // verified once; the result is the same as analysing each value on its own.
    [[nodiscard]] QList<AnalyzedValue> analyzeUser(const QList<QByteArray> &userCertificate,
                                                   const QList<QByteArray> &userSmimeCertificate,
                                                   const UserContext &user, const QDateTime &now) const;

    [[nodiscard]] const CertificateJudge &judge() const { return m_judge; }
    // The AnalysisCache key of a value: its SHA-256 under this analyzer's trust store.
    [[nodiscard]] QByteArray cacheKey(const QByteArray &valueSha256) const;

    // Applies duplicate and over-limit marks to the values of one attribute (in directory order).
    static void markSetProblems(QList<AnalyzedValue> &values, int maxValues);

    // How many threads have their own library context so far (for tests and diagnostics).
    [[nodiscard]] int threadContexts() const;

private:
    struct Worker;
    struct UserMemo;
    [[nodiscard]] const Worker &worker() const;
    [[nodiscard]] AnalyzedValue analyzeWith(const Worker &worker, Attribute attribute, int index,
                                            const QByteArray &bytes, const UserContext &user,
                                            const QDateTime &now, UserMemo *memo) const;
    [[nodiscard]] CachedAnalysis computeTimeless(const Worker &worker, Attribute attribute,
                                                 const QByteArray &bytes, const UserContext &user,
                                                 UserMemo *memo) const;

    const TrustStore &m_trust;
    CertificateJudge m_judge;
    AnalysisCache *m_cache;
    quint64 m_id; // tells this analyzer's workers apart in a thread's last-used slot
    mutable QMutex m_workersMutex;
    mutable std::vector<std::unique_ptr<Worker>> m_workers;
};

} // namespace certsync::certs
