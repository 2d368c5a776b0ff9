#include "certs/Problem.h"

#include <QStringList>

namespace certsync::certs {

namespace {

struct ProblemInfo
{
    Problem problem;
    const char *code;
    const char *text;
    Status severity;
    bool timeDependent;
};

// The table behind every problem code: its CSV code, its sentence and how bad it is.
constexpr ProblemInfo table[ProblemCount] = {
    { Problem::Expired, "expired", "The certificate has expired; nobody can encrypt to it.", Status::Error,
      true },
    { Problem::NotYetValid, "not_yet_valid", "The certificate is not valid yet.", Status::Error, true },
    { Problem::ExpiringSoon, "expiring_soon", "The certificate expires within the warning window.",
      Status::Warning, true },
    { Problem::NoEmailProtection, "no_email_protection",
      "The extended key usage does not allow e-mail protection (S/MIME).", Status::Error, false },
    { Problem::KeyUsage, "key_usage",
      "The key usage lacks digitalSignature or key encipherment/agreement, so it cannot sign or encrypt.",
      Status::Error, false },
    { Problem::NoEmail, "no_email",
      "The certificate names no e-mail address (no rfc822Name SAN, no emailAddress in the subject).",
      Status::Error, false },
    { Problem::EmailMismatch, "email_mismatch",
      "None of the certificate's e-mail addresses is the user's mail or a proxy address.", Status::Warning,
      false },
    { Problem::WeakKey, "weak_key", "The key is too short (RSA under 2048 bits or EC under 256 bits).",
      Status::Warning, false },
    { Problem::WeakSignature, "weak_signature", "The certificate is signed with SHA-1 or MD5.",
      Status::Warning, false },
    { Problem::SelfSigned, "self_signed", "The certificate is self-signed.", Status::Warning, false },
    { Problem::ChainIncomplete, "chain_incomplete",
      "An issuing CA certificate is missing, so the chain cannot be built.", Status::Error, false },
    { Problem::Untrusted, "untrusted", "The chain does not lead to a configured trust anchor.", Status::Error,
      false },
    { Problem::Revoked, "revoked", "The issuing CA has revoked the certificate.", Status::Error, false },
    { Problem::Duplicate, "duplicate", "The same certificate is published more than once in this attribute.",
      Status::Warning, false },
    { Problem::OverLimit, "over_limit",
      "The attribute holds more than 15 values; Entra Connect stops exporting it.", Status::Error, false },
    { Problem::ParseError, "parse_error", "The value cannot be read as a certificate or PKCS#7 structure.",
      Status::Error, false },
    { Problem::TenantUntrusted, "tenant_untrusted",
      "Exchange Online does not trust the issuer: its CA chain is not in the tenant's S/MIME collection "
      "(Set-SmimeConfig -SMIMECertificateIssuingCA).",
      Status::Error, false },
};

const ProblemInfo &info(Problem problem)
{
    return table[int(problem)];
}

} // namespace

QString problemCode(Problem problem)
{
    return QString::fromLatin1(info(problem).code);
}

QString problemText(Problem problem)
{
    return QString::fromUtf8(info(problem).text);
}

Status problemSeverity(Problem problem)
{
    return info(problem).severity;
}

bool isTimeDependent(Problem problem)
{
    return info(problem).timeDependent;
}

bool isTenantProblem(Problem problem)
{
    return problem == Problem::TenantUntrusted;
}

std::optional<Problem> problemFromCode(const QString &code)
{
    for (const ProblemInfo &entry : table)
        if (code == QLatin1String(entry.code))
            return entry.problem;
    return std::nullopt;
}

QString statusName(Status status)
{
    switch (status) {
    case Status::Ok:
        return QStringLiteral("ok");
    case Status::Warning:
        return QStringLiteral("warning");
    case Status::Error:
        return QStringLiteral("error");
    }
    return {};
}

QList<Problem> allProblems()
{
    QList<Problem> out;
    for (const ProblemInfo &entry : table)
        out.append(entry.problem);
    return out;
}

QList<Problem> ProblemSet::toList() const
{
    QList<Problem> out;
    for (int i = 0; i < ProblemCount; ++i)
        if (has(Problem(i)))
            out.append(Problem(i));
    return out;
}

QString ProblemSet::codes() const
{
    QStringList out;
    for (Problem p : toList())
        out.append(problemCode(p));
    return out.join(QLatin1Char(';'));
}

Status ProblemSet::status() const
{
    Status worst = Status::Ok;
    for (Problem p : toList())
        worst = std::max(worst, problemSeverity(p));
    return worst;
}

} // namespace certsync::certs
