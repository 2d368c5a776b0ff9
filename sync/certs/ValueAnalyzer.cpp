#include "certs/ValueAnalyzer.h"

#include <QSet>

#include <atomic>
#include <thread>

namespace certsync::certs {

const JudgedCertificate *AnalyzedValue::usersCertificate() const
{
    for (const JudgedCertificate &cert : certificates)
        if (cert.isUsers)
            return &cert;
    return nullptr;
}

ProblemSet AnalyzedValue::problemsOf(int certificateIndex) const
{
    ProblemSet set = valueProblems;
    if (certificateIndex >= 0 && certificateIndex < certificates.size())
        set = ProblemSet::fromBits(set.bits() | certificates.at(certificateIndex).problems.bits());
    return set;
}

std::optional<CachedAnalysis> MemoryAnalysisCache::find(const QByteArray &valueSha256)
{
    const QMutexLocker lock(&m_mutex);
    const auto it = m_entries.constFind(valueSha256);
    if (it == m_entries.cend())
        return std::nullopt;
    return *it;
}

void MemoryAnalysisCache::insert(const QByteArray &valueSha256, const CachedAnalysis &analysis)
{
    const QMutexLocker lock(&m_mutex);
    m_entries.insert(valueSha256, analysis);
}

qsizetype MemoryAnalysisCache::size() const
{
    const QMutexLocker lock(&m_mutex);
    return m_entries.size();
}

// One thread's own library context, the trust store decoded into it and a verifier over that.
// Used by that thread only. When OpenSSL cannot make a context, the shared store serves (slower).
struct ValueAnalyzer::Worker
{
    Worker(std::thread::id id, const TrustStore &shared)
        : thread(id)
    {
        ownContext = ossl::LibContext::create();
        if (ownContext) {
            if (auto copy = shared.inContext(*ownContext); copy.ok())
                trust.emplace(std::move(copy).value());
            else
                qWarning("%s", qPrintable(copy.error().message));
        }
        verifier.emplace(trust ? *trust : shared);
        context = trust ? &trust->context() : &shared.context();
    }
    ~Worker()
    {
        verifier.reset(); // everything decoded into the context goes before it
        trust.reset();
    }

    std::thread::id thread;
    std::unique_ptr<ossl::LibContext> ownContext;
    std::optional<TrustStore> trust;
    std::optional<ChainVerifier> verifier;
    const ossl::LibContext *context = nullptr;
};

// What one user's userCertificate values decoded to, for its userSMIMECertificate bags.
struct ValueAnalyzer::UserMemo
{
    std::vector<ParsedCertificate> certificates;
    // Per certificate: its chain when a bag would build the same one (trusted from the store alone).
    std::vector<std::optional<ChainResult>> chains;
    KnownCertificates known; // points into `certificates` once they are all in
    bool recording = true;
};

namespace {

std::atomic<quint64> nextAnalyzerId { 1 };

// The worker this thread used last, so that the common case takes no lock.
struct LastWorker
{
    quint64 analyzer = 0;
    const void *worker = nullptr;
};
thread_local LastWorker lastWorker;

} // namespace

ValueAnalyzer::ValueAnalyzer(const TrustStore &trust, CertificateJudge judge, AnalysisCache *cache)
    : m_trust(trust)
    , m_judge(judge)
    , m_cache(cache)
    , m_id(nextAnalyzerId++)
{ }

ValueAnalyzer::~ValueAnalyzer() = default;

QByteArray ValueAnalyzer::cacheKey(const QByteArray &valueSha256) const
{
    // The value and the trust it was judged under: a new anchor or CRL must not find an old verdict.
    return sha256Of(QByteArray(m_trust.fingerprint() + valueSha256), *worker().context);
}

const ValueAnalyzer::Worker &ValueAnalyzer::worker() const
{
    if (lastWorker.analyzer == m_id)
        return *static_cast<const Worker *>(lastWorker.worker);
    const std::thread::id self = std::this_thread::get_id();
    const QMutexLocker lock(&m_workersMutex);
    const Worker *found = nullptr;
    for (const std::unique_ptr<Worker> &w : m_workers)
        if (w->thread == self)
            found = w.get();
    if (!found) {
        m_workers.push_back(std::make_unique<Worker>(self, m_trust));
        found = m_workers.back().get();
    }
    lastWorker = LastWorker { m_id, found };
    return *found;
}

int ValueAnalyzer::threadContexts() const
{
    const QMutexLocker lock(&m_workersMutex);
    int count = 0;
    for (const std::unique_ptr<Worker> &w : m_workers)
        count += w->ownContext && w->trust;
    return count;
}

CachedAnalysis ValueAnalyzer::computeTimeless(const Worker &worker, Attribute attribute,
                                              const QByteArray &bytes, const UserContext &user,
                                              UserMemo *memo) const
{
    const bool reuse = memo && !memo->recording && !memo->known.empty();
    DecodedValue decoded =
        decodeValue(attribute, bytes, user.smtpAddresses(), *worker.context, reuse ? &memo->known : nullptr);
    const ChainVerifier &verifier = *worker.verifier;
    // A certificate the user's userCertificate already had: its chain, when a bag builds the same.
    auto knownChain = [&](int i) -> const std::optional<ChainResult> * {
        const int k = reuse ? decoded.knownIndex.value(i, -1) : -1;
        return k >= 0 && memo->chains[size_t(k)] ? &memo->chains[size_t(k)] : nullptr;
    };
    CachedAnalysis analysis;
    analysis.kind = decoded.kind;
    analysis.error = std::move(decoded.error);
    analysis.bareCertificate = decoded.bareCertificate;
    analysis.pkcs7Signed = decoded.pkcs7Signed;
    analysis.userChoice = std::move(decoded.userChoice);
    analysis.userIndex = decoded.userIndex;
    analysis.capabilities = std::move(decoded.capabilities);
    std::vector<X509 *> bag;
    bag.reserve(decoded.handles.size());
    for (const ossl::X509Ptr &handle : decoded.handles)
        bag.push_back(handle.get());
    // The user's chain first. The issuing CAs that came along usually sit on that chain, and then
    // their own chain is its tail: verifying them again would double the cost of every bag.
    const int users = decoded.userIndex;
    std::optional<ChainResult> usersChain;
    if (users >= 0 && knownChain(users)) {
        usersChain = *knownChain(users);
    } else if (users >= 0) {
        bool fromStore = false;
        usersChain =
            verifier.verify(decoded.handles[size_t(users)].get(), bag, ChainVerifier::Role::SmimeLeaf,
                            &decoded.certificates.at(users), &fromStore);
        if (memo && memo->recording && decoded.kind == ValueKind::X509) {
            memo->certificates.push_back(ParsedCertificate {
                ossl::share(decoded.handles[size_t(users)].get()), decoded.certificates.at(users) });
            memo->chains.push_back(fromStore ? usersChain : std::nullopt);
        }
    }
    for (int i = 0; i < int(decoded.handles.size()); ++i) {
        if (i == users) {
            analysis.chains.append(*usersChain);
            continue;
        }
        const Certificate &cert = decoded.certificates.at(i);
        const ChainVerifier::Role role =
            cert.isCa ? ChainVerifier::Role::Issuer : ChainVerifier::Role::SmimeLeaf;
        std::optional<ChainResult> tail;
        if (usersChain && usersChain->trusted() && role == ChainVerifier::Role::Issuer) {
            for (int depth = 1; depth < usersChain->chain.size(); ++depth)
                if (usersChain->chain.at(depth).sha256 == cert.sha256) {
                    tail = *usersChain;
                    tail->chain = usersChain->chain.mid(depth);
                    break;
                }
        }
        if (!tail && role == ChainVerifier::Role::SmimeLeaf && knownChain(i))
            tail = *knownChain(i);
        analysis.chains.append(tail ? *tail
                                    : verifier.verify(decoded.handles[size_t(i)].get(), bag, role, &cert));
    }
    analysis.certificates = std::move(decoded.certificates);
    return analysis;
}

AnalyzedValue ValueAnalyzer::analyze(Attribute attribute, int index, const QByteArray &bytes,
                                     const UserContext &user, const QDateTime &now) const
{
    return analyzeWith(worker(), attribute, index, bytes, user, now, nullptr);
}

AnalyzedValue ValueAnalyzer::analyzeWith(const Worker &worker, Attribute attribute, int index,
                                         const QByteArray &bytes, const UserContext &user,
                                         const QDateTime &now, UserMemo *memo) const
{
    AnalyzedValue value;
    value.attribute = attribute;
    value.index = index;
    value.size = int(bytes.size());
    value.sha256 = sha256Of(bytes, *worker.context);

    const QByteArray cacheKey = m_cache ? this->cacheKey(value.sha256) : QByteArray();
    std::optional<CachedAnalysis> cached = m_cache ? m_cache->find(cacheKey) : std::nullopt;
    if (!cached) {
        cached = computeTimeless(worker, attribute, bytes, user, memo);
        if (m_cache)
            m_cache->insert(cacheKey, *cached);
    }
    // `cached` is this call's own copy (a cache hands out copies): its parts are moved, not copied.
    value.kind = cached->kind;
    value.error = std::move(cached->error);
    value.bareCertificate = cached->bareCertificate;
    value.pkcs7Signed = cached->pkcs7Signed;
    value.userChoice = std::move(cached->userChoice);
    value.capabilities = std::move(cached->capabilities);
    if (value.kind == ValueKind::Invalid) {
        value.valueProblems.add(Problem::ParseError);
        return value;
    }

    // In a bag whose user certificate could not be chosen, every end-entity certificate is judged as
    // the user's; issuing CAs that came along are judged only on what concerns them.
    value.certificates.reserve(cached->certificates.size());
    for (int i = 0; i < cached->certificates.size(); ++i) {
        JudgedCertificate judged;
        judged.certificate = std::move(cached->certificates[i]);
        judged.chain = std::move(cached->chains[i]);
        judged.isUsers = cached->userIndex >= 0 ? i == cached->userIndex : !judged.certificate.isCa;
        if (judged.isUsers) {
            judged.problems = m_judge.judge(judged.certificate, judged.chain, user, now);
        } else {
            ProblemSet all = m_judge.judge(judged.certificate, judged.chain, user, now);
            for (Problem p : { Problem::NoEmailProtection, Problem::KeyUsage, Problem::NoEmail,
                               Problem::EmailMismatch, Problem::SelfSigned })
                all.remove(p); // a root is self-signed by nature; a CA has no mailbox
            judged.problems = all;
        }
        value.certificates.append(std::move(judged));
    }
    return value;
}

void ValueAnalyzer::markSetProblems(QList<AnalyzedValue> &values, int maxValues)
{
    QSet<QByteArray> seen;
    for (int i = 0; i < values.size(); ++i) {
        AnalyzedValue &value = values[i];
        if (i >= maxValues)
            value.valueProblems.add(Problem::OverLimit);
        const JudgedCertificate *users = value.usersCertificate();
        const QByteArray key = users ? users->certificate.sha256 : value.sha256;
        if (seen.contains(key))
            value.valueProblems.add(Problem::Duplicate);
        else
            seen.insert(key);
    }
}

QList<AnalyzedValue> ValueAnalyzer::analyzeUser(const QList<QByteArray> &userCertificate,
                                                const QList<QByteArray> &userSmimeCertificate,
                                                const UserContext &user, const QDateTime &now) const
{
    const Worker &thisThread = worker();
    UserMemo memo;
    QList<AnalyzedValue> all;
    for (const auto &[attribute, values] :
         { std::pair { Attribute::UserCertificate, &userCertificate },
           std::pair { Attribute::UserSmimeCertificate, &userSmimeCertificate } }) {
        if (attribute == Attribute::UserSmimeCertificate) { // userCertificate's are all in
            memo.recording = false;
            for (const ParsedCertificate &parsed : memo.certificates)
                memo.known.push_back(&parsed);
        }
        QList<AnalyzedValue> analysed;
        analysed.reserve(values->size());
        for (int i = 0; i < values->size(); ++i)
            analysed.append(analyzeWith(thisThread, attribute, i, values->at(i), user, now, &memo));
        markSetProblems(analysed, m_judge.policy().maxValuesPerAttribute);
        all += analysed;
    }
    return all;
}

} // namespace certsync::certs
