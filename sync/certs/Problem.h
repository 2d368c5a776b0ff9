#pragma once

#include <QList>
#include <QString>

namespace certsync::certs {

// The one place that defines certsync's problem codes (DESIGN.md, inventory CSV) and their texts.
enum class Problem : quint8 {
    Expired,
    NotYetValid,
    ExpiringSoon,
    NoEmailProtection,
    KeyUsage,
    NoEmail,
    EmailMismatch,
    WeakKey,
    WeakSignature,
    SelfSigned,
    ChainIncomplete,
    Untrusted,
    Revoked,
    Duplicate,
    OverLimit,
    ParseError,
    // Judged against the tenant, not the directory: the certificate's issuing chain is not in Exchange
    // Online's S/MIME CA collection (Get-SmimeConfig). Never in an inventory of the directory.
    TenantUntrusted,
};
inline constexpr int ProblemCount = int(Problem::TenantUntrusted) + 1;

enum class Status : quint8 { Ok, Warning, Error };

QString problemCode(Problem problem); // "expired", "no_email_protection", ...
QString problemText(Problem problem); // one sentence for a person
Status problemSeverity(Problem problem);
bool isTimeDependent(Problem problem); // expired, not_yet_valid, expiring_soon: re-derived on every run
bool isTenantProblem(Problem problem); // judged against the tenant's data (tenant_untrusted)
std::optional<Problem> problemFromCode(const QString &code);
QString statusName(Status status); // "ok", "warning", "error"
QList<Problem> allProblems();

// A set of problems, kept as bits so that it is cheap to store, compare and cache.
class ProblemSet
{
public:
    void add(Problem p) { m_bits |= bit(p); }
    void remove(Problem p) { m_bits &= ~bit(p); }
    [[nodiscard]] bool has(Problem p) const { return m_bits & bit(p); }
    [[nodiscard]] bool isEmpty() const { return m_bits == 0; }
    [[nodiscard]] quint32 bits() const { return m_bits; }
    static ProblemSet fromBits(quint32 bits)
    {
        ProblemSet s;
        s.m_bits = bits;
        return s;
    }
    [[nodiscard]] QList<Problem> toList() const; // in enum order
    [[nodiscard]] QString codes() const; // "expired;no_email" (CSV form)
    [[nodiscard]] Status status() const; // the worst severity, Ok when empty
    bool operator==(const ProblemSet &) const = default;

private:
    static quint32 bit(Problem p) { return 1u << quint32(p); }
    quint32 m_bits = 0;
};

} // namespace certsync::certs
