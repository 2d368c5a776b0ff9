#include "engine/Verdict.h"

#include <QJsonArray>

namespace certsync::engine {

using certs::AnalyzedValue;
using certs::Attribute;
using certs::Problem;
using certs::ProblemSet;

namespace {

// Problems that stop encryption to a certificate, in the order a person should read them. Trust is
// not among them on the directory path: whether a sender trusts the issuer is the sender's store's
// business (the tenant path judges Exchange Online's own trust, tenant_untrusted).
constexpr Problem blocking[] = { Problem::ParseError, Problem::Expired,  Problem::NotYetValid,
                                 Problem::Revoked,    Problem::KeyUsage, Problem::NoEmailProtection };

// Outlook picks a recipient's userCertificate ~48 hours after Exchange has it at the latest.
constexpr qint64 PropagationSeconds = 48 * 3600;

const certs::JudgedCertificate *usersOf(const AnalyzedValue &v)
{
    if (v.kind == certs::ValueKind::Invalid || v.valueProblems.has(Problem::ParseError))
        return nullptr;
    return v.usersCertificate();
}

bool isBlocking(Problem p)
{
    return std::find(std::begin(blocking), std::end(blocking), p) != std::end(blocking);
}

// The problem codes of a certificate, those that block encryption first.
QStringList codesOf(const ProblemSet &problems)
{
    QStringList codes;
    for (Problem p : blocking)
        if (problems.has(p))
            codes << certs::problemCode(p);
    for (Problem p : problems.toList())
        if (!isBlocking(p))
            codes << certs::problemCode(p);
    return codes;
}

void addReason(QStringList &reasons, const QString &code)
{
    if (!reasons.contains(code))
        reasons << code;
}

ChosenCertificate chosenOf(const AnalyzedValue &v, const certs::JudgedCertificate &j)
{
    return ChosenCertificate { j.certificate, v.attribute, v.index };
}

bool sameCertificate(const std::optional<ChosenCertificate> &a, const std::optional<ChosenCertificate> &b)
{
    return a && b && a->certificate.sha256 == b->certificate.sha256;
}

QString dateOf(const QDateTime &t)
{
    return t.toUTC().date().toString(Qt::ISODate);
}

// "certificate 0123456789abcdef in userCertificate (CN=..., valid until 2027-06-01)".
QString describeChosen(const ChosenCertificate &c)
{
    return QStringLiteral("certificate %1 in %2 (%3, valid until %4)")
        .arg(c.certificate.sha256Hex().left(16), certs::attributeName(c.attribute), c.certificate.subject,
             dateOf(c.certificate.notAfter));
}

PathVerdict tenantPath(const TenantView &view, const PathVerdict &directory, const QDateTime &now,
                       const QList<PlanItemState> &items)
{
    PathVerdict t;
    if (!view.userFound) {
        t.reasons << QString::fromLatin1(reason::NotInTenant);
        return t;
    }
    if (!view.hasRecipient) {
        t.reasons << QString::fromLatin1(reason::NoRecipient);
        return t;
    }
    const OutlookPick gal = outlookPick(view.published);
    const OutlookPick oab = outlookPick(offlineAddressBookValues(view.published));
    t.chosen = gal.chosen;
    t.canEncrypt = gal.usable && oab.usable;
    t.reasons = gal.reasons;
    if (gal.chosen && (!oab.usable || !sameCertificate(gal.chosen, oab.chosen)))
        addReason(t.reasons, QString::fromLatin1(reason::OabExcluded));
    if (view.smimeCollection && gal.chosen
        && !chainInCollection(gal.chosen->certificate, *view.smimeCollection)) {
        t.canEncrypt = false;
        t.reasons.prepend(certs::problemCode(Problem::TenantUntrusted));
    }
    if (directory.canEncrypt && !sameCertificate(directory.chosen, gal.chosen))
        addReason(t.reasons, QString::fromLatin1(reason::NotPublished));
    for (const PlanItemState &item : items)
        if (item.state == QLatin1String("applied") && item.appliedAt.isValid()
            && item.appliedAt.secsTo(now) < PropagationSeconds)
            addReason(t.reasons, QString::fromLatin1(reason::Propagating));
    return t;
}

QString fixFor(const EncryptionVerdict &v, const VerdictInput &input)
{
    const PathVerdict *tenant = v.tenant ? &*v.tenant : nullptr;
    auto has = [&](const char *code) {
        const QString c = QString::fromLatin1(code);
        return v.directory.reasons.contains(c) || (tenant && tenant->reasons.contains(c));
    };
    if (v.canEncrypt() && !has(reason::Propagating) && !has(reason::StaleSmime) && !has(reason::NotPublished))
        return QStringLiteral("Nothing to fix.");
    for (const PlanItemState &item : input.planItems) {
        if (item.state == QLatin1String("staged"))
            return QStringLiteral("Plan %1 item %2 (%3) is staged: approve it, then publish the plan.")
                .arg(item.planId)
                .arg(item.number)
                .arg(item.attribute);
        if (item.state == QLatin1String("approved"))
            return QStringLiteral("Plan %1 item %2 (%3) is approved and not yet published: run certsync "
                                  "publish %1.")
                .arg(item.planId)
                .arg(item.number)
                .arg(item.attribute);
    }
    for (const PlanItemState &item : input.planItems)
        if (item.state == QLatin1String("applied") && item.appliedAt.isValid()
            && item.appliedAt.secsTo(input.now) < PropagationSeconds)
            return QStringLiteral("Approved and published %1 hours ago: Outlook clients can take up to "
                                  "about 48 hours.")
                .arg(item.appliedAt.secsTo(input.now) / 3600);
    if (tenant && tenant->chosen && tenant->reasons.contains(certs::problemCode(Problem::TenantUntrusted)))
        return QStringLiteral("Add the issuing CA (%1) and its chain to the tenant's S/MIME collection "
                              "(Set-SmimeConfig -SMIMECertificateIssuingCA).")
            .arg(tenant->chosen->certificate.issuer);
    if (has(reason::StaleSmime))
        return QStringLiteral("Remove the old userSMIMECertificate value or publish the new certificate "
                              "there (Outlook: Publish to GAL): Outlook takes userSMIMECertificate "
                              "before userCertificate.");
    if (!v.directory.canEncrypt)
        return QStringLiteral("Enrol a new S/MIME encryption certificate for the user and publish it in "
                              "the directory.");
    if (tenant && tenant->reasons.contains(QString::fromLatin1(reason::NotInTenant)))
        return QStringLiteral("No Microsoft 365 user matches this directory user: check Entra Connect's "
                              "sync scope.");
    if (tenant && tenant->reasons.contains(QString::fromLatin1(reason::NoRecipient)))
        return QStringLiteral("The user has no Exchange recipient (mailbox or mail user) to carry "
                              "certificates.");
    if (has(reason::NotPublished) || (tenant && !tenant->canEncrypt)) {
        if (input.tenant && input.tenant->synced)
            return QStringLiteral("The directory is right; Entra Connect has not carried it to Exchange "
                                  "yet: check its export errors (15 values at most per attribute).");
        return QStringLiteral("Run certsync diff and approve and publish the staged item for this user.");
    }
    return QStringLiteral("Nothing to fix.");
}

QString pathLine(const QString &name, const PathVerdict &p)
{
    QString text =
        name % QStringLiteral(": ") % (p.canEncrypt ? QStringLiteral("yes") : QStringLiteral("no"));
    if (p.chosen)
        text += QStringLiteral(", ") % describeChosen(*p.chosen);
    else
        text += QStringLiteral(", no certificate chosen");
    return text;
}

} // namespace

QString verdictReasonText(const QString &code)
{
    if (const auto problem = certs::problemFromCode(code))
        return certs::problemText(*problem);
    static const QHash<QString, QString> texts = {
        { QString::fromLatin1(reason::NoCertificate),
          QStringLiteral("Neither userSMIMECertificate nor userCertificate holds a certificate.") },
        { QString::fromLatin1(reason::NoUsableCertificate),
          QStringLiteral("userCertificate holds no unexpired certificate allowed for e-mail encryption.") },
        { QString::fromLatin1(reason::StaleSmime),
          QStringLiteral("Outlook takes the certificate in userSMIMECertificate although userCertificate "
                         "holds a newer one.") },
        { QString::fromLatin1(reason::NotInTenant), QStringLiteral("No Microsoft 365 user matches.") },
        { QString::fromLatin1(reason::NoRecipient),
          QStringLiteral("The Microsoft 365 user has no Exchange recipient.") },
        { QString::fromLatin1(reason::NotPublished),
          QStringLiteral("Exchange Online gives senders another certificate than the directory's.") },
        { QString::fromLatin1(reason::Propagating),
          QStringLiteral("Published less than 48 hours ago: Outlook clients may not have it yet.") },
        { QString::fromLatin1(reason::OabExcluded),
          QStringLiteral("The offline address book leaves this certificate out (not valid for e-mail): "
                         "Outlook in cached mode picks otherwise.") },
    };
    return texts.value(code, code);
}

bool encryptable(const ProblemSet &problems)
{
    return std::none_of(std::begin(blocking), std::end(blocking), [&](Problem p) { return problems.has(p); });
}

OutlookPick outlookPick(const QList<AnalyzedValue> &values)
{
    OutlookPick pick;
    const AnalyzedValue *firstSmime = nullptr;
    const AnalyzedValue *usableSmime = nullptr;
    const AnalyzedValue *usableCert = nullptr;
    const AnalyzedValue *newestUsableCert = nullptr;
    bool anyCertificate = false;
    for (const AnalyzedValue &v : values) {
        const certs::JudgedCertificate *j = usersOf(v);
        if (!j)
            continue;
        anyCertificate = true;
        const bool usable = encryptable(j->problems);
        if (v.attribute == Attribute::UserSmimeCertificate) {
            if (!firstSmime)
                firstSmime = &v;
            if (usable && !usableSmime)
                usableSmime = &v;
        } else if (usable) {
            if (!usableCert)
                usableCert = &v;
            if (!newestUsableCert
                || j->certificate.notAfter > usersOf(*newestUsableCert)->certificate.notAfter)
                newestUsableCert = &v;
        }
    }
    if (!anyCertificate) {
        pick.reasons << QString::fromLatin1(reason::NoCertificate);
        return pick;
    }
    if (firstSmime) {
        const AnalyzedValue &v = usableSmime ? *usableSmime : *firstSmime;
        const certs::JudgedCertificate &j = *usersOf(v);
        pick.chosen = chosenOf(v, j);
        pick.usable = usableSmime != nullptr;
        pick.reasons = codesOf(j.problems);
        if (newestUsableCert) {
            const certs::Certificate &newer = usersOf(*newestUsableCert)->certificate;
            if (newer.sha256 != j.certificate.sha256
                && (!pick.usable || newer.notAfter > j.certificate.notAfter))
                pick.reasons.prepend(QString::fromLatin1(reason::StaleSmime));
        }
        return pick;
    }
    if (!usableCert) {
        pick.reasons << QString::fromLatin1(reason::NoUsableCertificate);
        ProblemSet seen;
        for (const AnalyzedValue &v : values)
            if (const certs::JudgedCertificate *j = usersOf(v))
                seen = ProblemSet::fromBits(seen.bits() | j->problems.bits());
        for (const QString &code : codesOf(seen))
            if (certs::problemFromCode(code) && isBlocking(*certs::problemFromCode(code)))
                pick.reasons << code;
        return pick;
    }
    const certs::JudgedCertificate &j = *usersOf(*usableCert);
    pick.chosen = chosenOf(*usableCert, j);
    pick.usable = true;
    pick.reasons = codesOf(j.problems);
    return pick;
}

QList<AnalyzedValue> offlineAddressBookValues(const QList<AnalyzedValue> &published)
{
    QList<AnalyzedValue> kept;
    for (const AnalyzedValue &v : published) {
        const certs::JudgedCertificate *j = usersOf(v);
        if (j && !j->problems.has(Problem::Expired) && !j->problems.has(Problem::NotYetValid)
            && !j->problems.has(Problem::NoEmailProtection))
            kept << v;
    }
    return kept;
}

std::optional<QList<certs::Certificate>> issuingChain(const certs::Certificate &certificate,
                                                      const QList<certs::Certificate> &pool)
{
    QList<certs::Certificate> chain;
    const certs::Certificate *current = &certificate;
    // A chain longer than the pool would have to repeat a certificate: a loop.
    for (qsizetype step = 0; step <= pool.size(); ++step) {
        const certs::Certificate *issuer = nullptr;
        for (const certs::Certificate &ca : pool) {
            if (ca.subject != current->issuer)
                continue;
            if (!current->authorityKeyId.isEmpty() && !ca.subjectKeyId.isEmpty()
                && ca.subjectKeyId != current->authorityKeyId)
                continue;
            issuer = &ca;
            break;
        }
        if (!issuer)
            return std::nullopt;
        chain.append(*issuer);
        if (issuer->selfIssued)
            return chain;
        current = issuer;
    }
    return std::nullopt;
}

bool chainInCollection(const certs::Certificate &certificate, const QList<certs::Certificate> &collection)
{
    return issuingChain(certificate, collection).has_value();
}

QString PathVerdict::source() const
{
    return chosen ? certs::attributeName(chosen->attribute) : QString();
}

QJsonObject PathVerdict::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("can_encrypt"), canEncrypt);
    o.insert(QStringLiteral("certificate"),
             chosen ? QJsonValue(chosen->certificate.sha256Hex()) : QJsonValue());
    o.insert(QStringLiteral("source"), chosen ? QJsonValue(source()) : QJsonValue());
    o.insert(QStringLiteral("value_index"), chosen ? QJsonValue(chosen->valueIndex) : QJsonValue());
    o.insert(QStringLiteral("subject"), chosen ? QJsonValue(chosen->certificate.subject) : QJsonValue());
    o.insert(QStringLiteral("not_after"),
             chosen ? QJsonValue(chosen->certificate.notAfter.toUTC().toString(Qt::ISODate)) : QJsonValue());
    o.insert(QStringLiteral("reasons"), QJsonArray::fromStringList(reasons));
    return o;
}

QString EncryptionVerdict::line() const
{
    if (canEncrypt())
        return QStringLiteral("Yes: senders can encrypt to %1 (%2).")
            .arg(who, directory.chosen ? describeChosen(*directory.chosen) : QString());
    QStringList why;
    if (!directory.canEncrypt)
        why << QStringLiteral("directory: ") + directory.reasons.join(QStringLiteral(", "));
    if (tenant && !tenant->canEncrypt)
        why << QStringLiteral("Exchange Online: ") + tenant->reasons.join(QStringLiteral(", "));
    return QStringLiteral("No: senders cannot encrypt to %1 (%2).").arg(who, why.join(QStringLiteral("; ")));
}

QString EncryptionVerdict::ticketText() const
{
    QString text = line() % QLatin1Char('\n');
    auto path = [&](const QString &name, const PathVerdict &p) {
        text += pathLine(name, p) % QLatin1Char('\n');
        for (const QString &code : p.reasons)
            text += QStringLiteral("  - %1: %2\n").arg(code, verdictReasonText(code));
    };
    path(QStringLiteral("Directory (Outlook reading the GAL from AD/LDAP)"), directory);
    if (tenant)
        path(QStringLiteral("Exchange Online (what senders get)"), *tenant);
    else
        text += QStringLiteral("Exchange Online: not checked (no tenant configured)\n");
    text += QStringLiteral("Fix: ") % fix % QLatin1Char('\n');
    return text;
}

QJsonObject EncryptionVerdict::toJson() const
{
    QJsonObject o;
    o.insert(QStringLiteral("who"), who);
    o.insert(QStringLiteral("can_encrypt"), canEncrypt());
    o.insert(QStringLiteral("directory"), directory.toJson());
    o.insert(QStringLiteral("tenant"), tenant ? QJsonValue(tenant->toJson()) : QJsonValue());
    o.insert(QStringLiteral("fix"), fix);
    o.insert(QStringLiteral("answer"), line());
    return o;
}

EncryptionVerdict computeVerdict(const VerdictInput &input)
{
    EncryptionVerdict v;
    v.who = input.who;
    const OutlookPick pick = outlookPick(input.directory);
    v.directory.canEncrypt = pick.usable;
    v.directory.chosen = pick.chosen;
    v.directory.reasons = pick.reasons;
    if (input.tenant)
        v.tenant = tenantPath(*input.tenant, v.directory, input.now, input.planItems);
    v.fix = fixFor(v, input);
    return v;
}

} // namespace certsync::engine
