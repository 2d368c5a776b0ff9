#include "engine/Diff.h"

#include "engine/Verdict.h"

#include <QCryptographicHash>
#include <QFuture>
#include <QHash>
#include <QThread>
#include <QVarLengthArray>
#include <QtConcurrent>

#include <algorithm>
#include <bit>
#include <vector>

namespace certsync::engine {

using certs::AnalyzedValue;
using certs::Attribute;
using certs::Problem;
using certs::ProblemSet;
using certs::ValueKind;

QString matchMethodName(MatchMethod method)
{
    switch (method) {
    case MatchMethod::SourceAnchor:
        return QStringLiteral("source_anchor");
    case MatchMethod::ConsistencyGuid:
        return QStringLiteral("consistency_guid");
    case MatchMethod::UserPrincipalName:
        return QStringLiteral("upn");
    case MatchMethod::Mail:
        return QStringLiteral("mail");
    }
    return {};
}

QString channelName(Channel channel)
{
    switch (channel) {
    case Channel::Exchange:
        return QStringLiteral("exchange");
    case Channel::Graph:
        return QStringLiteral("graph");
    case Channel::Directory:
        return QStringLiteral("directory");
    }
    return {};
}

std::optional<Channel> channelFromName(const QString &name)
{
    for (Channel c : { Channel::Exchange, Channel::Graph, Channel::Directory })
        if (channelName(c) == name)
            return c;
    return std::nullopt;
}

QString itemAttributeName(ItemAttribute attribute)
{
    switch (attribute) {
    case ItemAttribute::UserCertificate:
        return QStringLiteral("userCertificate");
    case ItemAttribute::UserSmimeCertificate:
        return QStringLiteral("userSMIMECertificate");
    case ItemAttribute::CertificateUserIds:
        return QStringLiteral("certificateUserIds");
    case ItemAttribute::SmimeIssuingCa:
        return QStringLiteral("SMIMECertificateIssuingCA");
    }
    return {};
}

std::optional<ItemAttribute> itemAttributeFromName(const QString &name)
{
    for (ItemAttribute a : { ItemAttribute::UserCertificate, ItemAttribute::UserSmimeCertificate,
                             ItemAttribute::CertificateUserIds, ItemAttribute::SmimeIssuingCa })
        if (itemAttributeName(a) == name)
            return a;
    return std::nullopt;
}

QString operationName(Operation operation)
{
    return operation == Operation::Replace ? QStringLiteral("replace") : QStringLiteral("remove_values");
}

std::optional<Operation> operationFromName(const QString &name)
{
    if (name == QLatin1String("replace"))
        return Operation::Replace;
    if (name == QLatin1String("remove_values"))
        return Operation::RemoveValues;
    return std::nullopt;
}

QString dropReasonName(DropReason reason)
{
    switch (reason) {
    case DropReason::ParseError:
        return QStringLiteral("parse_error");
    case DropReason::Expired:
        return QStringLiteral("expired");
    case DropReason::Revoked:
        return QStringLiteral("revoked");
    case DropReason::Duplicate:
        return QStringLiteral("duplicate");
    case DropReason::OverLimit:
        return QStringLiteral("over_limit");
    case DropReason::Unsuitable:
        return QStringLiteral("unsuitable");
    }
    return {};
}

QString warningKindName(WarningKind kind)
{
    switch (kind) {
    case WarningKind::StaleSmime:
        return QStringLiteral("stale_smime");
    case WarningKind::NoUsableCertificate:
        return QStringLiteral("no_usable_certificate");
    case WarningKind::NoRecipient:
        return QStringLiteral("no_recipient");
    }
    return {};
}

QString PlanItem::key() const
{
    return userKey + QLatin1Char('|') + channelName(channel) + QLatin1Char('|')
        + itemAttributeName(attribute);
}

Value valueOf(const QByteArray &bytes)
{
    return Value { QCryptographicHash::hash(bytes, QCryptographicHash::Sha256), bytes, {} };
}

namespace {

// The problems that decide about a value: the user's certificate's, or the value's own when no
// certificate could be read. The analyser's duplicate/over-limit marks are in directory order and
// ignored: the policy orders by notAfter first and marks them itself.
struct ValueFacts
{
    const certs::JudgedCertificate *users = nullptr;
    ProblemSet problems;
    bool parsed = false;
};

ValueFacts factsOf(const AnalyzedValue &value)
{
    ValueFacts f;
    f.users = value.usersCertificate();
    f.parsed = value.kind != ValueKind::Invalid && f.users && !value.valueProblems.has(Problem::ParseError);
    if (f.users)
        f.problems = f.users->problems;
    if (!f.parsed)
        f.problems.add(Problem::ParseError);
    return f;
}

bool usableToEncrypt(const ValueFacts &f)
{
    return f.parsed && !f.problems.has(Problem::Expired) && !f.problems.has(Problem::NotYetValid)
        && !f.problems.has(Problem::Revoked) && !f.problems.has(Problem::NoEmailProtection)
        && !f.problems.has(Problem::KeyUsage);
}

Value valueFrom(const AnalyzedValue &analysed, const QByteArray &bytes, const ValueFacts &f)
{
    return Value { analysed.sha256, bytes, f.users ? f.users->certificate.notAfter : QDateTime() };
}

// Newest notAfter first; ties by sha256 so that the order never depends on the directory's.
bool newerFirst(const Value &a, const Value &b)
{
    if (a.notAfter != b.notAfter)
        return a.notAfter > b.notAfter;
    return a.sha256 < b.sha256;
}

// Digest lists are short (at most a few dozen values a user): a stack array of pointers keeps the
// diff of 100,000 users free of per-user heap traffic.
using Digests = QVarLengthArray<const QByteArray *, 24>;

Digests sortedDigests(const QList<Value> &values)
{
    Digests digests;
    digests.reserve(values.size());
    for (const Value &v : values)
        digests.append(&v.sha256);
    std::sort(digests.begin(), digests.end(),
              [](const QByteArray *a, const QByteArray *b) { return *a < *b; });
    return digests;
}

bool containsDigest(const Digests &sorted, const QByteArray &digest)
{
    return std::binary_search(sorted.cbegin(), sorted.cend(), &digest,
                              [](const QByteArray *a, const QByteArray *b) { return *a < *b; });
}

// a \ b by sha256, in a's order.
QList<Value> minus(const QList<Value> &a, const QList<Value> &b)
{
    const Digests bDigests = sortedDigests(b);
    QList<Value> out;
    for (const Value &v : a)
        if (!containsDigest(bDigests, v.sha256))
            out.append(v);
    return out;
}

bool sameSet(const QList<Value> &a, const QList<Value> &b)
{
    if (a.size() != b.size())
        return false;
    const Digests da = sortedDigests(a), db = sortedDigests(b);
    return std::equal(da.cbegin(), da.cend(), db.cbegin(),
                      [](const QByteArray *x, const QByteArray *y) { return *x == *y; });
}

// RFC 4514 writes the least significant RDN first; Microsoft's <I> form starts at the root.
QString issuerRootFirst(const QString &rfc4514)
{
    QStringList rdns;
    QString current;
    for (qsizetype i = 0; i < rfc4514.size(); ++i) {
        const QChar c = rfc4514.at(i);
        if (c == QLatin1Char('\\') && i + 1 < rfc4514.size()) {
            current += c;
            current += rfc4514.at(++i);
        } else if (c == QLatin1Char(',')) {
            rdns.prepend(current);
            current.clear();
        } else {
            current += c;
        }
    }
    rdns.prepend(current);
    return rdns.join(QLatin1Char(','));
}

QString serialForm(const QString &serialHex, bool reverse)
{
    if (!reverse)
        return serialHex;
    QByteArray bytes = QByteArray::fromHex(serialHex.toLatin1());
    std::reverse(bytes.begin(), bytes.end());
    return QString::fromLatin1(bytes.toHex()).toUpper();
}

} // namespace

namespace {

using FactsList = QVarLengthArray<ValueFacts, 16>;

// Each value's facts once per user: the warnings, the policy and the hygiene all need them.
FactsList factsFor(const QList<AnalyzedValue> &values)
{
    FactsList facts;
    facts.reserve(values.size());
    for (const AnalyzedValue &v : values)
        facts.append(factsOf(v));
    return facts;
}

DesiredAttribute desiredSetFrom(const QList<AnalyzedValue> &values, const FactsList &facts,
                                Attribute attribute, const PolicySettings &settings)
{
    DesiredAttribute out;
    // Drop by the value's own problems first; duplicates and the cap are decided over what is left,
    // newest first, so that the value that survives a duplicate pair or the cap is the newest.
    struct Candidate
    {
        Value value;
        QByteArray certificateSha256;
        int directoryIndex;
    };
    QVarLengthArray<Candidate, 16> kept;
    QVarLengthArray<std::pair<int, DroppedValue>, 8> dropped; // with the directory index, to report in order
    for (qsizetype i = 0; i < values.size(); ++i) {
        const AnalyzedValue &v = values.at(i);
        if (v.attribute != attribute)
            continue;
        const ValueFacts &f = facts.at(i);
        // Bytes are attached by the caller (computeDiff) where writes need them; the policy needs only
        // digests and dates.
        const Value value = valueFrom(v, {}, f);
        std::optional<DropReason> reason;
        if (!f.parsed)
            reason = DropReason::ParseError;
        else if (settings.dropRevoked && f.problems.has(Problem::Revoked))
            reason = DropReason::Revoked;
        else if (settings.dropExpired && f.problems.has(Problem::Expired))
            reason = DropReason::Expired;
        else if (settings.requireSmimeSuitable
                 && (f.problems.has(Problem::NoEmailProtection) || f.problems.has(Problem::KeyUsage)))
            reason = DropReason::Unsuitable;
        if (reason)
            dropped.append({ v.index, DroppedValue { value, *reason } });
        else
            kept.append(Candidate { value, f.users->certificate.sha256, v.index });
    }
    std::sort(kept.begin(), kept.end(),
              [](const Candidate &a, const Candidate &b) { return newerFirst(a.value, b.value); });
    QVarLengthArray<const QByteArray *, 16> seen;
    out.kept.reserve(qMin(qsizetype(settings.maxValues), kept.size()));
    for (const Candidate &c : std::as_const(kept)) {
        // Two values carrying the same certificate (a bare one and a PKCS#7 bag, or two bags) are one.
        if (std::any_of(seen.cbegin(), seen.cend(),
                        [&](const QByteArray *s) { return *s == c.certificateSha256; })) {
            dropped.append({ c.directoryIndex, DroppedValue { c.value, DropReason::Duplicate } });
            continue;
        }
        seen.append(&c.certificateSha256);
        if (out.kept.size() >= settings.maxValues)
            dropped.append({ c.directoryIndex, DroppedValue { c.value, DropReason::OverLimit } });
        else
            out.kept.append(c.value);
    }
    if (dropped.size() > 1)
        std::stable_sort(dropped.begin(), dropped.end(),
                         [](const auto &a, const auto &b) { return a.first < b.first; });
    for (auto &[index, d] : dropped)
        out.dropped.append(std::move(d));
    return out;
}

} // namespace

DesiredAttribute desiredSet(const QList<AnalyzedValue> &values, Attribute attribute,
                            const PolicySettings &settings)
{
    return desiredSetFrom(values, factsFor(values), attribute, settings);
}

bool isManagedCertificateUserId(const QString &id, quint8 forms)
{
    return ((forms & IssuerAndSerial) && id.startsWith(QLatin1String("X509:<I>")))
        || ((forms & SubjectKeyId) && id.startsWith(QLatin1String("X509:<SKI>")));
}

QStringList deriveCertificateUserIds(const QList<AnalyzedValue> &values, const QList<Value> &kept,
                                     const PolicySettings &settings, int max)
{
    QHash<QByteArray, const AnalyzedValue *> bySha;
    for (const AnalyzedValue &v : values)
        bySha.insert(v.sha256, &v);
    QList<Value> ordered = kept;
    std::sort(ordered.begin(), ordered.end(), newerFirst);
    QStringList ids;
    for (const Value &k : std::as_const(ordered)) {
        const AnalyzedValue *v = bySha.value(k.sha256);
        const certs::JudgedCertificate *users = v ? v->usersCertificate() : nullptr;
        if (!users)
            continue;
        const certs::Certificate &c = users->certificate;
        QStringList forms;
        if (settings.certificateUserIdForms & IssuerAndSerial)
            forms.append(QStringLiteral("X509:<I>") + issuerRootFirst(c.issuer) + QStringLiteral("<SR>")
                         + serialForm(c.serialHex, settings.reverseSerialBytes));
        if ((settings.certificateUserIdForms & SubjectKeyId) && !c.subjectKeyId.isEmpty())
            forms.append(QStringLiteral("X509:<SKI>") + QString::fromLatin1(c.subjectKeyId.toHex()));
        for (const QString &id : std::as_const(forms))
            if (!ids.contains(id) && ids.size() < max)
                ids.append(id);
    }
    return ids;
}

PublishedUser publishedFromTenant(const tenant::TenantUser &tenantUser)
{
    PublishedUser p;
    p.user = tenantUser.user;
    if (tenantUser.recipient) {
        const tenant::ExchangeRecipient &r = *tenantUser.recipient;
        p.hasRecipient = true;
        p.recipientIdentity =
            !r.externalDirectoryObjectId.isEmpty() ? r.externalDirectoryObjectId : r.userPrincipalName;
        p.recipientTypeDetails = r.recipientTypeDetails;
        p.exchangeCloudManaged = r.isDirSynced && r.isExchangeCloudManaged.value_or(false);
        for (const QByteArray &b : r.userCertificate)
            p.userCertificate.append(valueOf(b));
        for (const QByteArray &b : r.userSMimeCertificate)
            p.userSmimeCertificate.append(valueOf(b));
    }
    return p;
}

QList<PublishedUser> publishedFromTenant(const QList<tenant::TenantUser> &users)
{
    QList<PublishedUser> out;
    out.reserve(users.size());
    for (const tenant::TenantUser &u : users)
        out.append(publishedFromTenant(u));
    return out;
}

namespace {

QString labelOf(const directory::DirectoryUser &u)
{
    return !u.userPrincipalName.isEmpty() ? u.userPrincipalName : !u.mail.isEmpty() ? u.mail : u.dn;
}

// Outlook takes what userSMIMECertificate holds while it is unexpired, usable or not, before
// userCertificate: stale when userCertificate has a newer usable certificate than that one.
std::optional<StaleSmimeSelection> staleSmimeFrom(const QList<AnalyzedValue> &values)
{
    // The verdict's rule, so that the diff's warning, the console's banner and `check` agree.
    const OutlookPick pick = outlookPick(values);
    if (!pick.chosen || !pick.reasons.contains(QLatin1String(reason::StaleSmime)))
        return std::nullopt;
    QDateTime newest;
    for (const AnalyzedValue &v : values) {
        if (v.attribute != Attribute::UserCertificate)
            continue;
        for (const certs::JudgedCertificate &j : v.certificates)
            if (j.isUsers && encryptable(j.problems)
                && (!newest.isValid() || j.certificate.notAfter > newest))
                newest = j.certificate.notAfter;
    }
    return StaleSmimeSelection { pick.chosen->certificate.notAfter, newest, pick.usable };
}

void addWarnings(const directory::DirectoryUser &u, const FactsList &facts, QList<Warning> &warnings)
{
    if (u.values.isEmpty())
        return;
    if (const auto stale = staleSmimeFrom(u.values))
        warnings.append(Warning {
            WarningKind::StaleSmime, u.dn, labelOf(u),
            (stale->smimeUsable
                 ? QStringLiteral("Outlook encrypts to the userSMIMECertificate certificate valid until "
                                  "%1, not to the newer userCertificate one valid until %2")
                 : QStringLiteral("Outlook takes the userSMIMECertificate certificate (valid until %1), "
                                  "which cannot be encrypted to, and does not fall back to the usable "
                                  "userCertificate one valid until %2"))
                .arg(stale->smimeNotAfter.toString(Qt::ISODate),
                     stale->userCertificateNotAfter.toString(Qt::ISODate)) });
    const bool anyUsable = std::any_of(facts.cbegin(), facts.cend(), usableToEncrypt);
    if (!anyUsable)
        warnings.append(Warning {
            WarningKind::NoUsableCertificate, u.dn, labelOf(u),
            QStringLiteral("%1 certificate value(s), none usable to encrypt to").arg(u.values.size()) });
}

QList<Value> withBytes(const QList<Value> &values, const directory::DirectoryUser &u, Attribute attribute)
{
    const QList<QByteArray> &raw =
        attribute == Attribute::UserCertificate ? u.userCertificate : u.userSmimeCertificate;
    QHash<QByteArray, int> indexBySha;
    for (const AnalyzedValue &v : u.values)
        if (v.attribute == attribute)
            indexBySha.insert(v.sha256, v.index);
    QList<Value> out = values;
    for (Value &v : out) {
        const int i = indexBySha.value(v.sha256, -1);
        if (i >= 0 && i < raw.size())
            v.bytes = raw.at(i);
    }
    return out;
}

// Tenant users by one of their names, for matching. Open addressing over a 64-bit hash of the name,
// compared with the tenant user's own string only on a hash match: no key is copied or lower-cased.
// (QHash<QString, int> over toLower() copies was 40 % of the diff of 100,000 users.)
class NameIndex
{
public:
    enum class Case { Sensitive, Insensitive }; // Insensitive: per UTF-16 unit, simple lower case
    static constexpr int Ambiguous = -2;
    using Field = QString tenant::GraphUser::*;

    NameIndex(const QList<PublishedUser> &tenant, Field field, Case mode, qsizetype expected)
        : m_tenant(tenant)
        , m_field(field)
        , m_mode(mode)
    {
        qsizetype capacity = 16;
        while (capacity < 2 * expected)
            capacity *= 2;
        m_slots.resize(capacity);
        m_shift = 64 - std::countr_zero(quint64(capacity));
    }

    // Adds tenant user `t` under its name. Another user with the same name makes the name ambiguous
    // when `markAmbiguous`, else takes its place (as QHash::insert would).
    void insert(int t, bool markAmbiguous)
    {
        const QString &name = m_tenant.at(t).user.*m_field;
        const quint64 h = hashOf(name);
        for (qsizetype i = slotOf(h);; i = (i + 1) & (m_slots.size() - 1)) {
            Slot &slot = m_slots[i];
            if (slot.user < 0) {
                slot = Slot { h, t, false };
                return;
            }
            if (slot.hash == h && equal(name, m_tenant.at(slot.user).user.*m_field)) {
                if (markAmbiguous)
                    slot.ambiguous = true;
                else
                    slot.user = t;
                return;
            }
        }
    }

    // The tenant user with that name: -1 when none, Ambiguous when several.
    [[nodiscard]] int find(QStringView name) const
    {
        const quint64 h = hashOf(name);
        for (qsizetype i = slotOf(h);; i = (i + 1) & (m_slots.size() - 1)) {
            const Slot &slot = m_slots.at(i);
            if (slot.user < 0)
                return -1;
            if (slot.hash == h && equal(name, m_tenant.at(slot.user).user.*m_field))
                return slot.ambiguous ? Ambiguous : slot.user;
        }
    }

private:
    struct Slot
    {
        quint64 hash = 0;
        int user = -1; // -1: empty
        bool ambiguous = false;
    };

    [[nodiscard]] char16_t fold(char16_t c) const
    {
        if (m_mode == Case::Sensitive)
            return c;
        if (c < 0x80)
            return c >= u'A' && c <= u'Z' ? char16_t(c + 32) : c;
        return QChar(c).toLower().unicode();
    }
    [[nodiscard]] quint64 hashOf(QStringView name) const
    {
        quint64 h = 14695981039346656037ULL; // FNV-1a
        for (QChar c : name)
            h = (h ^ fold(c.unicode())) * 1099511628211ULL;
        return h;
    }
    [[nodiscard]] qsizetype slotOf(quint64 h) const
    {
        return qsizetype((h * 0x9E3779B97F4A7C15ULL) >> m_shift);
    }
    [[nodiscard]] bool equal(QStringView a, QStringView b) const
    {
        if (a.size() != b.size())
            return false;
        for (qsizetype i = 0; i < a.size(); ++i)
            if (fold(a[i].unicode()) != fold(b[i].unicode()))
                return false;
        return true;
    }

    const QList<PublishedUser> &m_tenant;
    Field m_field;
    Case m_mode;
    std::vector<Slot> m_slots;
    int m_shift = 60;
};

QList<Value> idValues(const QStringList &ids)
{
    QList<Value> out;
    out.reserve(ids.size());
    for (const QString &id : ids)
        out.append(valueOf(id.toUtf8()));
    return out;
}

} // namespace

UserMatches matchUsers(const QList<directory::DirectoryUser> &dir, const QList<PublishedUser> &ten,
                       const PolicySettings &settings)
{
    UserMatches out;
    // Only tenant users without an anchor can be matched by UPN or mail (one with an anchor belongs to
    // whichever directory object has it), so only they go into the fallback maps; the anchored ones
    // are looked up by name only to explain an unmatched directory user.
    const qsizetype anchored = std::count_if(ten.cbegin(), ten.cend(), [](const PublishedUser &p) {
        return !p.user.onPremisesImmutableId.isEmpty();
    });
    NameIndex byAnchor(ten, &tenant::GraphUser::onPremisesImmutableId, NameIndex::Case::Sensitive, anchored);
    NameIndex byUpn(ten, &tenant::GraphUser::userPrincipalName, NameIndex::Case::Insensitive,
                    ten.size() - anchored);
    NameIndex byMail(ten, &tenant::GraphUser::mail, NameIndex::Case::Insensitive, ten.size() - anchored);
    for (int i = 0; i < ten.size(); ++i) {
        const tenant::GraphUser &g = ten.at(i).user;
        if (!g.onPremisesImmutableId.isEmpty()) {
            byAnchor.insert(i, false);
            continue;
        }
        if (!g.userPrincipalName.isEmpty())
            byUpn.insert(i, false);
        if (!g.mail.isEmpty())
            byMail.insert(i, true);
    }
    std::optional<QSet<QString>> anchoredNames; // built on the first unmatched directory user
    auto isAnchoredName = [&](const QString &lowerName) {
        if (!anchoredNames) {
            anchoredNames.emplace();
            for (const PublishedUser &p : ten) {
                if (p.user.onPremisesImmutableId.isEmpty())
                    continue;
                anchoredNames->insert(p.user.userPrincipalName.toLower());
                if (!p.user.mail.isEmpty())
                    anchoredNames->insert(p.user.mail.toLower());
            }
        }
        return anchoredNames->contains(lowerName);
    };

    // Anchors first over everyone, so that a fallback can never take a tenant user that belongs to
    // another directory user by anchor.
    QList<int> &matchOf = out.tenantIndex;
    QList<MatchMethod> &methodOf = out.method;
    matchOf.fill(-1, dir.size());
    methodOf.fill(MatchMethod::SourceAnchor, dir.size());
    QList<int> takenBy(ten.size(), -1);
    for (int d = 0; d < dir.size(); ++d) {
        const directory::DirectoryUser &u = dir.at(d);
        const QString &anchor = settings.consistencyGuidAnchor ? u.consistencyGuid : u.sourceAnchor;
        if (anchor.isEmpty())
            continue;
        const int t = byAnchor.find(anchor);
        if (t >= 0 && takenBy.at(t) < 0) {
            matchOf[d] = t;
            methodOf[d] =
                settings.consistencyGuidAnchor ? MatchMethod::ConsistencyGuid : MatchMethod::SourceAnchor;
            takenBy[t] = d;
        }
    }
    for (int d = 0; d < dir.size(); ++d) {
        if (matchOf.at(d) >= 0)
            continue;
        const directory::DirectoryUser &u = dir.at(d);
        QString reason = QStringLiteral("no_tenant_user");
        // A tenant user that carries an anchor belongs to whichever directory object has it: a
        // fallback to it would be a guess.
        auto tryFallback = [&](int t, MatchMethod method) {
            if (t < 0)
                return false;
            if (takenBy.at(t) >= 0) {
                reason = QStringLiteral("tenant_user_taken");
                return false;
            }
            matchOf[d] = t;
            methodOf[d] = method;
            takenBy[t] = d;
            return true;
        };
        if (!u.userPrincipalName.isEmpty()
            && tryFallback(byUpn.find(u.userPrincipalName), MatchMethod::UserPrincipalName))
            continue;
        if (!u.mail.isEmpty()) {
            const int t = byMail.find(u.mail);
            if (t == NameIndex::Ambiguous)
                reason = QStringLiteral("ambiguous_mail");
            else if (tryFallback(t, MatchMethod::Mail))
                continue;
        }
        if (reason == QLatin1String("no_tenant_user")
            && ((!u.userPrincipalName.isEmpty() && isAnchoredName(u.userPrincipalName.toLower()))
                || (!u.mail.isEmpty() && isAnchoredName(u.mail.toLower()))))
            reason = QStringLiteral("anchor_mismatch");
        out.unmatchedDirectory.append(UnmatchedDirectoryUser { u.dn, labelOf(u), reason });
    }
    for (int t = 0; t < ten.size(); ++t)
        if (takenBy.at(t) < 0)
            out.unmatchedTenant.append(
                UnmatchedTenantUser { ten.at(t).user.id, ten.at(t).user.userPrincipalName });

    return out;
}

std::optional<StaleSmimeSelection> staleSmimeSelection(const QList<AnalyzedValue> &values)
{
    return staleSmimeFrom(values);
}

std::optional<PlanItem> smimeCollectionItem(const QList<directory::DirectoryUser> &directory,
                                            const QList<PublishedUser> &tenant, const QList<int> &matchOf,
                                            const QList<certs::Certificate> &collection,
                                            const QList<certs::Certificate> &trustBundle)
{
    QSet<QByteArray> held; // SHA-256 of the collection's certificates
    for (const certs::Certificate &ca : collection)
        held.insert(ca.sha256);
    QList<certs::Certificate> pool = collection;
    for (const certs::Certificate &ca : trustBundle)
        if (!held.contains(ca.sha256))
            pool.append(ca);
    QList<certs::Certificate> missing;
    QSet<QByteArray> missingDigests;
    QSet<QString> walked; // issuer name + authority key id: one walk per issuing CA
    for (qsizetype d = 0; d < directory.size(); ++d) {
        const int t = matchOf.value(d, -1);
        if (t < 0 || !tenant.at(t).hasRecipient)
            continue;
        for (const certs::AnalyzedValue &v : directory.at(d).values) {
            const certs::JudgedCertificate *j =
                v.kind == certs::ValueKind::Invalid ? nullptr : v.usersCertificate();
            if (!j || !encryptable(j->problems))
                continue;
            const QString issuerKey = j->certificate.issuer + QLatin1Char('|')
                + QString::fromLatin1(j->certificate.authorityKeyId.toHex());
            if (walked.contains(issuerKey))
                continue;
            walked.insert(issuerKey);
            const auto chain = issuingChain(j->certificate, pool);
            if (!chain)
                continue; // not even the bundle reaches a root: nothing certsync can add helps
            for (const certs::Certificate &ca : *chain)
                if (!held.contains(ca.sha256) && !missingDigests.contains(ca.sha256)) {
                    missingDigests.insert(ca.sha256);
                    missing.append(ca);
                }
        }
    }
    if (missing.isEmpty())
        return std::nullopt;
    auto valueOfCa = [](const certs::Certificate &ca) {
        Value v = valueOf(ca.der);
        v.notAfter = ca.notAfter;
        return v;
    };
    PlanItem item;
    item.userKey = QString::fromLatin1(SmimeCollectionKey);
    item.userLabel = QString::fromLatin1(SmimeCollectionLabel);
    item.channel = Channel::Exchange;
    item.attribute = ItemAttribute::SmimeIssuingCa;
    item.operation = Operation::Replace;
    item.target = QString::fromLatin1(SmimeCollectionKey);
    for (const certs::Certificate &ca : collection)
        item.oldValues.append(valueOfCa(ca));
    item.newValues = item.oldValues;
    for (const certs::Certificate &ca : std::as_const(missing)) {
        item.added.append(valueOfCa(ca));
        item.newValues.append(item.added.last());
    }
    item.reasons = { QStringLiteral("missing_issuer") };
    return item;
}

DiffResult computeDiff(const DiffInput &input)
{
    DiffResult result;
    const QList<directory::DirectoryUser> &dir = *input.directory;
    const QList<PublishedUser> &ten = *input.tenant;
    const PolicySettings &settings = input.settings;

    UserMatches matches = matchUsers(dir, ten, settings);
    const QList<int> &matchOf = matches.tenantIndex;
    const QList<MatchMethod> &methodOf = matches.method;
    result.unmatchedDirectory = std::move(matches.unmatchedDirectory);
    result.unmatchedTenant = std::move(matches.unmatchedTenant);

    // The policy per user is independent of every other user's: above a few thousand users the
    // second half runs on another core (the diff of 100,000 users has a 0.3 s budget). Each half
    // fills its own result; the halves are joined in order and sorted by stable keys below.
    auto diffUsers = [&](int from, int to, DiffResult &out) {
        for (int d = from; d < to; ++d) {
            const directory::DirectoryUser &u = dir.at(d);
            const FactsList facts = factsFor(u.values);
            addWarnings(u, facts, out.warnings);
            const int t = matchOf.at(d);
            if (t < 0)
                continue;
            ++out.matched;
            if (methodOf.at(d) == MatchMethod::UserPrincipalName || methodOf.at(d) == MatchMethod::Mail)
                ++out.matchedByFallback;
            const PublishedUser &p = ten.at(t);
            const bool synced = p.user.isSynced();

            auto base = [&](Channel channel, ItemAttribute attribute, Operation op) {
                PlanItem item;
                item.userKey = u.dn;
                item.userLabel = labelOf(u);
                item.tenantObjectId = p.user.id;
                item.matchedBy = methodOf.at(d);
                item.channel = channel;
                item.attribute = attribute;
                item.operation = op;
                return item;
            };

            // The recipient's list through Exchange (Set-Mailbox/Set-MailUser), when it differs from
            // the desired set. `route`: an extra reason naming why Exchange is the route.
            auto exchangeItem = [&](Attribute attribute, ItemAttribute itemAttribute,
                                    const QList<Value> &published, const DesiredAttribute &desired,
                                    const QString &route) {
                if (sameSet(desired.kept, published))
                    return;
                PlanItem item = base(Channel::Exchange, itemAttribute, Operation::Replace);
                item.target = p.recipientIdentity;
                item.recipientTypeDetails = p.recipientTypeDetails;
                item.oldValues = published;
                item.newValues = withBytes(desired.kept, u, attribute);
                item.removed = minus(published, desired.kept);
                item.added = minus(item.newValues, published);
                QSet<QString> reasons;
                if (!route.isEmpty())
                    reasons.insert(route);
                for (const DroppedValue &dv : desired.dropped)
                    reasons.insert(dropReasonName(dv.reason));
                item.reasons = QStringList(reasons.cbegin(), reasons.cend());
                item.reasons.sort();
                out.items.append(std::move(item));
            };

            QList<Value> allKept;
            for (Attribute attribute : { Attribute::UserCertificate, Attribute::UserSmimeCertificate }) {
                const ItemAttribute itemAttribute = attribute == Attribute::UserCertificate
                    ? ItemAttribute::UserCertificate
                    : ItemAttribute::UserSmimeCertificate;
                const QList<Value> &published =
                    attribute == Attribute::UserCertificate ? p.userCertificate : p.userSmimeCertificate;
                const DesiredAttribute desired = desiredSetFrom(u.values, facts, attribute, settings);
                if (settings.certificateUserIds && !synced)
                    allKept += desired.kept; // only certificateUserIds needs both attributes together
                if (synced) {
                    // Delete from AD what Entra Connect must not export; leave what only the policy's
                    // own filters drop (parse errors, unsuitable): those are for a person to judge.
                    QVarLengthArray<const DroppedValue *, 8> hygiene;
                    for (const DroppedValue &dv : desired.dropped)
                        if (settings.hygieneReasons & reasonBit(dv.reason))
                            hygiene.append(&dv);
                    auto removedByHygiene = [&](const QByteArray &sha) {
                        return std::any_of(hygiene.cbegin(), hygiene.cend(),
                                           [&](const DroppedValue *dv) { return dv->value.sha256 == sha; });
                    };
                    // What AD holds after hygiene, as digests: what Entra Connect will carry.
                    Digests after;
                    for (const AnalyzedValue &v : u.values)
                        if (v.attribute == attribute && !removedByHygiene(v.sha256))
                            after.append(&v.sha256);
                    std::sort(after.begin(), after.end(),
                              [](const QByteArray *x, const QByteArray *y) { return *x < *y; });
                    if (!hygiene.isEmpty()) {
                        PlanItem item = base(Channel::Directory, itemAttribute, Operation::RemoveValues);
                        item.target = u.dn;
                        QStringList reasons;
                        for (const DroppedValue *dv : std::as_const(hygiene)) {
                            item.removed.append(dv->value);
                            if (!reasons.contains(dropReasonName(dv->reason)))
                                reasons.append(dropReasonName(dv->reason));
                        }
                        for (const AnalyzedValue &v : u.values)
                            if (v.attribute == attribute)
                                item.oldValues.append(valueFrom(v, {}, factsOf(v)));
                        item.newValues = minus(item.oldValues, item.removed);
                        item.removed = withBytes(item.removed, u, attribute);
                        reasons.sort();
                        item.reasons = reasons;
                        out.items.append(std::move(item));
                    }
                    if (p.hasRecipient && p.exchangeCloudManaged) {
                        // Two routes: AD (above, which Entra Connect may no longer carry to Exchange)
                        // and Exchange itself, which takes the write only if the certificate
                        // attributes moved with IsExchangeCloudManaged (not documented: DOMAIN.md). A
                        // refusal fails this item; the AD item stands on its own.
                        exchangeItem(attribute, itemAttribute, published, desired,
                                     QStringLiteral("exchange_cloud_managed"));
                    } else if (p.hasRecipient) {
                        const Digests now = sortedDigests(published);
                        const bool same = now.size() == after.size()
                            && std::equal(now.cbegin(), now.cend(), after.cbegin(),
                                          [](const QByteArray *x, const QByteArray *y) { return *x == *y; });
                        if (!same) {
                            int missing = 0, extra = 0;
                            for (const QByteArray *digest : std::as_const(after))
                                missing += containsDigest(now, *digest) ? 0 : 1;
                            for (const QByteArray *digest : std::as_const(now))
                                extra += containsDigest(after, *digest) ? 0 : 1;
                            out.awaiting.append(
                                AwaitingEntraConnect { u.dn, labelOf(u), itemAttribute, missing, extra });
                        }
                    }
                    continue;
                }
                if (!p.hasRecipient) {
                    if (!desired.kept.isEmpty() && attribute == Attribute::UserCertificate)
                        out.warnings.append(
                            Warning { WarningKind::NoRecipient, u.dn, labelOf(u),
                                      QStringLiteral("cloud-mastered user %1 has no Exchange recipient "
                                                     "to carry its certificates")
                                          .arg(p.user.userPrincipalName) });
                    continue;
                }
                exchangeItem(attribute, itemAttribute, published, desired, {});
            }

            if (settings.certificateUserIds && !synced) {
                const QStringList derived =
                    deriveCertificateUserIds(u.values, allKept, settings, settings.maxCertificateUserIds);
                QStringList wanted;
                for (const QString &id : p.user.certificateUserIds)
                    if (!isManagedCertificateUserId(id, settings.certificateUserIdForms))
                        wanted.append(id); // the admin's own mappings (<PN>, <RFC822>, ...) stay
                for (const QString &id : derived)
                    if (wanted.size() < settings.maxCertificateUserIds && !wanted.contains(id))
                        wanted.append(id);
                const QList<Value> current = idValues(p.user.certificateUserIds);
                const QList<Value> next = idValues(wanted);
                if (!sameSet(current, next)) {
                    PlanItem item =
                        base(Channel::Graph, ItemAttribute::CertificateUserIds, Operation::Replace);
                    item.target = p.user.id;
                    item.oldValues = current;
                    item.newValues = next;
                    item.removed = minus(current, next);
                    item.added = minus(next, current);
                    out.items.append(std::move(item));
                }
            }
        }
    };
    constexpr int parallelFrom = 4000;
    if (input.parallel && dir.size() >= parallelFrom && QThread::idealThreadCount() > 1) {
        const int half = int(dir.size() / 2);
        DiffResult second;
        QFuture<void> other = QtConcurrent::run([&] { diffUsers(half, int(dir.size()), second); });
        diffUsers(0, half, result);
        other.waitForFinished();
        result.matched += second.matched;
        result.matchedByFallback += second.matchedByFallback;
        result.items += std::move(second.items);
        result.warnings += std::move(second.warnings);
        result.awaiting += std::move(second.awaiting);
    } else {
        diffUsers(0, int(dir.size()), result);
    }
    if (input.smimeCollection && input.trustBundle)
        if (auto item = smimeCollectionItem(dir, ten, matchOf, *input.smimeCollection, *input.trustBundle))
            result.items.append(std::move(*item));

    auto byKey = [](const PlanItem &a, const PlanItem &b) {
        if (a.userKey != b.userKey)
            return a.userKey < b.userKey;
        if (a.channel != b.channel)
            return a.channel < b.channel;
        return a.attribute < b.attribute;
    };
    std::sort(result.items.begin(), result.items.end(), byKey);
    for (int i = 0; i < result.items.size(); ++i) {
        result.items[i].number = i + 1;
        result.removedValues += result.items.at(i).removed.size();
        result.addedValues += result.items.at(i).added.size();
    }
    std::sort(result.unmatchedDirectory.begin(), result.unmatchedDirectory.end(),
              [](const auto &a, const auto &b) { return a.dn < b.dn; });
    std::sort(result.unmatchedTenant.begin(), result.unmatchedTenant.end(),
              [](const auto &a, const auto &b) { return a.id < b.id; });
    std::stable_sort(result.warnings.begin(), result.warnings.end(), [](const Warning &a, const Warning &b) {
        return a.userKey != b.userKey ? a.userKey < b.userKey : a.kind < b.kind;
    });
    std::stable_sort(result.awaiting.begin(), result.awaiting.end(), [](const auto &a, const auto &b) {
        return a.userKey != b.userKey ? a.userKey < b.userKey : a.attribute < b.attribute;
    });
    return result;
}

} // namespace certsync::engine
