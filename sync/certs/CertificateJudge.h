#pragma once

#include "certs/Certificate.h"
#include "certs/ChainVerifier.h"
#include "certs/Problem.h"

#include <QDateTime>
#include <QStringList>

namespace certsync::certs {

struct JudgePolicy
{
    int warningDays = 30; // expiring_soon window
    int minRsaBits = 2048;
    int minEcBits = 256;
    bool requireTrust = true; // report chain_incomplete / untrusted
    int maxValuesPerAttribute = 15; // Entra ID's limit
};

// The user a certificate was published for.
struct UserContext
{
    QString mail;
    QStringList proxyAddresses; // as in AD: "SMTP:a@b", "smtp:c@d", "X500:..." (non-SMTP ignored)
    [[nodiscard]] QStringList smtpAddresses() const; // lower-cased mail + smtp proxies
};

// Judges single certificates. Pure: the same inputs give the same problems.
// An inventory keeps the rows it wrote and reuses them while certsync's version is the same: a change
// to what the judge (or the analysis before it) decides must bump InventoryCsv::reportRevision.
class CertificateJudge
{
public:
    explicit CertificateJudge(JudgePolicy policy = {})
        : m_policy(policy)
    { }
    [[nodiscard]] const JudgePolicy &policy() const { return m_policy; }

    // Every problem of one certificate (leaf) given its chain and the user.
    [[nodiscard]] ProblemSet judge(const Certificate &cert, const ChainResult &chain, const UserContext &user,
                                   const QDateTime &now) const;
    // Only the problems that do not depend on the time: cacheable by SHA-256 with the chain result.
    [[nodiscard]] ProblemSet judgeTimeless(const Certificate &cert, const ChainResult &chain,
                                           const UserContext &user) const;
    // Only the time-dependent problems: re-derived on every run.
    [[nodiscard]] ProblemSet judgeTime(const Certificate &cert, const QDateTime &now) const;

private:
    JudgePolicy m_policy;
};

} // namespace certsync::certs
