#pragma once

// "Can senders encrypt to this person?": one answer per path, from the directory's values, the
// tenant's published values, Exchange Online's S/MIME CA collection and the plan's items for the
// user. Plain data in, plain data out: `certsync check`, the console's user pane and the unit tests
// all call computeVerdict().

#include "certs/ValueAnalyzer.h"

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace certsync::engine {

// Reason codes of a verdict that are not a certificate's problem codes (certs::problemCode). A
// verdict's reasons mix both: the chosen certificate's problems (tenant_untrusted among them, on the
// tenant path) and these.
namespace reason {
inline constexpr auto NoCertificate = "no_certificate"; // neither attribute holds a certificate
inline constexpr auto NoUsableCertificate = "no_usable_certificate"; // userCertificate: none usable
inline constexpr auto StaleSmime = "stale_smime"; // userSMIMECertificate wins over a newer userCertificate
inline constexpr auto NotInTenant = "not_in_tenant"; // no Entra user for the directory user
inline constexpr auto NoRecipient = "no_recipient"; // no Exchange recipient to carry certificates
inline constexpr auto NotPublished = "not_published"; // senders get another certificate than AD's
inline constexpr auto Propagating = "propagating"; // published < 48 h ago: clients may not have it
inline constexpr auto OabExcluded = "oab_excluded"; // the offline address book leaves the choice out
} // namespace reason

// A sentence for a person for any reason code of a verdict (certificate problem codes included).
QString verdictReasonText(const QString &code);

// The certificate a sender's Outlook encrypts to.
struct ChosenCertificate
{
    certs::Certificate certificate;
    certs::Attribute attribute = certs::Attribute::UserCertificate;
    int valueIndex = 0; // position in its attribute
};

// Outlook's pick among one recipient's two attributes (DOMAIN.md, KB 2840546): userSMIMECertificate
// first, and when it holds any certificate that is what Outlook takes (the first usable one, else
// the first one, which then fails); only otherwise the first usable userCertificate.
struct OutlookPick
{
    std::optional<ChosenCertificate> chosen;
    bool usable = false; // the chosen certificate can be encrypted to
    QStringList reasons;
};
OutlookPick outlookPick(const QList<certs::AnalyzedValue> &values);

// True when nothing in `problems` stops a sender from encrypting to the certificate.
bool encryptable(const certs::ProblemSet &problems);

// The offline address book's rule: only certificates valid for e-mail (unexpired, e-mail
// protection allowed) travel in it; Outlook in cached mode picks among those.
QList<certs::AnalyzedValue> offlineAddressBookValues(const QList<certs::AnalyzedValue> &published);

// Whether the issuing chain of `certificate` up to a self-issued root is in the collection
// (matched by name and, where the certificate names it, the authority key id).
bool chainInCollection(const certs::Certificate &certificate, const QList<certs::Certificate> &collection);
// That chain, issuer first and the self-issued root last, taken from `pool`; nullopt when the pool
// does not reach a root.
std::optional<QList<certs::Certificate>> issuingChain(const certs::Certificate &certificate,
                                                      const QList<certs::Certificate> &pool);

// What the tenant holds for the user, as read (analysed like the directory's values).
struct TenantView
{
    bool userFound = false;
    bool synced = false; // mastered on-premises: Entra Connect carries AD's values
    bool hasRecipient = false;
    QList<certs::AnalyzedValue> published; // the recipient's UserCertificate, UserSMimeCertificate
    // Get-SmimeConfig's SMIMECertificateIssuingCA, decoded; nullopt: not read (no judgement).
    std::optional<QList<certs::Certificate>> smimeCollection;
};

// A plan item that touches the user, with where it stands.
struct PlanItemState
{
    QString planId;
    int number = 0;
    QString attribute; // "userCertificate", ...
    QString state; // "staged", "approved", "rejected", "applied", "failed"
    QDateTime appliedAt; // UTC; for "applied"
};

struct VerdictInput
{
    QString who; // how the person was named (UPN, mail, ...), for the texts
    QList<certs::AnalyzedValue> directory;
    std::optional<TenantView> tenant; // nullopt: no tenant configured (directory-only)
    QList<PlanItemState> planItems;
    QDateTime now; // UTC
};

struct PathVerdict
{
    bool canEncrypt = false;
    std::optional<ChosenCertificate> chosen;
    QStringList reasons; // codes, without repetitions, most decisive first
    [[nodiscard]] QString source() const; // the chosen certificate's attribute name, empty when none
    [[nodiscard]] QJsonObject toJson() const;
};

struct EncryptionVerdict
{
    QString who;
    PathVerdict directory;
    std::optional<PathVerdict> tenant;
    QString fix; // one sentence: what to do (or "nothing to fix")

    [[nodiscard]] bool canEncrypt() const { return directory.canEncrypt && (!tenant || tenant->canEncrypt); }
    [[nodiscard]] QString line() const; // the one-line answer
    [[nodiscard]] QString ticketText() const; // line, both paths with their reasons, the fix
    [[nodiscard]] QJsonObject toJson() const; // `certsync check --json`
};

EncryptionVerdict computeVerdict(const VerdictInput &input);

} // namespace certsync::engine
