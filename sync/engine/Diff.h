#pragma once

// From two snapshots to a list of changes: matching, the per-user policy, routing to a channel and
// the helpdesk warnings. Plain data in, plain data out, no I/O: the diff job, the benchmark and the
// unit tests all call computeDiff() directly.

#include "certs/ValueAnalyzer.h"
#include "directory/DirectorySnapshot.h"
#include "tenant/TenantSnapshot.h"

#include <QByteArray>
#include <QDateTime>
#include <QList>
#include <QSet>
#include <QString>
#include <QStringList>

#include <optional>

namespace certsync::engine {

// How a directory user was paired with a tenant user. Fallbacks are named so that a person can
// see which pairs rest on a weaker key.
enum class MatchMethod { SourceAnchor, ConsistencyGuid, UserPrincipalName, Mail };
QString matchMethodName(MatchMethod method); // "source_anchor", "consistency_guid", "upn", "mail"

// Where an item is written.
enum class Channel {
    Exchange, // Set-Mailbox / Set-MailUser of a cloud-mastered recipient
    Graph, // PATCH certificateUserIds of a cloud-mastered user
    Directory, // LDAP value deletes in AD for a synced user; Entra Connect carries the result
};
QString channelName(Channel channel); // "exchange", "graph", "directory"
std::optional<Channel> channelFromName(const QString &name);

enum class ItemAttribute {
    UserCertificate,
    UserSmimeCertificate,
    CertificateUserIds,
    // Exchange Online's S/MIME CA collection (Set-SmimeConfig -SMIMECertificateIssuingCA): a tenant
    // item, not a user's; its values are CA certificates (DER), written as one serialized store.
    SmimeIssuingCa,
};
// "userCertificate", "userSMIMECertificate", "certificateUserIds", "SMIMECertificateIssuingCA"
QString itemAttributeName(ItemAttribute attribute);
std::optional<ItemAttribute> itemAttributeFromName(const QString &name);

enum class Operation {
    Replace, // the target's whole list becomes `newValues` (Exchange, Graph)
    RemoveValues, // exactly `removed` values are deleted, nothing else is touched (LDAP)
};
QString operationName(Operation operation); // "replace", "remove_values"
std::optional<Operation> operationFromName(const QString &name);

// Why the policy left a directory value out of the desired set.
enum class DropReason { ParseError, Expired, Revoked, Duplicate, OverLimit, Unsuitable };
QString
dropReasonName(DropReason reason); // the inventory's problem codes, "unsuitable" for the S/MIME filter
constexpr quint8 reasonBit(DropReason reason)
{
    return quint8(1u << unsigned(reason));
}

struct Value
{
    QByteArray sha256; // of the raw value bytes: the identity used for set difference
    QByteArray bytes; // the raw value (for a certificateUserIds item: the UTF-8 string)
    QDateTime notAfter; // of the user's certificate inside; invalid for unparseable values and ids
    [[nodiscard]] QString sha256Hex() const { return QString::fromLatin1(sha256.toHex()); }
};

struct DroppedValue
{
    Value value;
    DropReason reason = DropReason::ParseError;
};

// The policy's verdict for one attribute of one user.
struct DesiredAttribute
{
    QList<Value> kept; // newest notAfter first; at most the cap
    QList<DroppedValue> dropped; // in directory order
};

// Which certificateUserIds forms certsync derives and manages.
enum CertificateUserIdForm : quint8 {
    IssuerAndSerial = 0x1, // X509:<I>issuer<SR>serial
    SubjectKeyId = 0x2, // X509:<SKI>hex
};

struct PolicySettings
{
    bool dropExpired = true;
    bool dropRevoked = true; // only where a CRL said so (the judge's `revoked`)
    bool requireSmimeSuitable = false; // drop values without emailProtection or the right key usage
    int maxValues = 15; // Entra ID's limit per attribute
    // certificateUserIds: off unless asked for; cloud-mastered users only (Entra Connect writes the
    // synced ones).
    bool certificateUserIds = false;
    quint8 certificateUserIdForms = IssuerAndSerial;
    int maxCertificateUserIds = 10; // Entra ID's limit
    // Microsoft documents <SR> as the serial's hex; some tools reverse its bytes. Not settled.
    bool reverseSerialBytes = false;
    // AD hygiene for synced users: which of the dropped values are deleted from AD.
    quint8 hygieneReasons = reasonBit(DropReason::Expired) | reasonBit(DropReason::Revoked)
        | reasonBit(DropReason::Duplicate) | reasonBit(DropReason::OverLimit); // bits of reasonBit()
    // Which AD attribute is the source anchor's source: objectGUID (default) or ms-DS-ConsistencyGuid.
    bool consistencyGuidAnchor = false;
};

// The desired set of one attribute from its analysed directory values.
DesiredAttribute desiredSet(const QList<certs::AnalyzedValue> &values, certs::Attribute attribute,
                            const PolicySettings &settings);
// certificateUserIds for the kept certificates, newest first, without duplicates, at most `max`.
QStringList deriveCertificateUserIds(const QList<certs::AnalyzedValue> &values, const QList<Value> &kept,
                                     const PolicySettings &settings, int max);
// True for the certificateUserIds forms certsync derives (the others are the admin's and are kept).
bool isManagedCertificateUserId(const QString &id, quint8 forms);

// The tenant side of one user, with each published value already hashed (done once, when the
// snapshot is taken, so that the diff only compares digests).
struct PublishedUser
{
    tenant::GraphUser user;
    bool hasRecipient = false;
    QString recipientIdentity; // ExternalDirectoryObjectId, else UPN
    QString recipientTypeDetails;
    // A synced recipient whose Exchange attributes are mastered in Exchange Online
    // (IsExchangeCloudManaged): its certificates are also planned through Exchange, besides AD.
    bool exchangeCloudManaged = false;
    QList<Value> userCertificate;
    QList<Value> userSmimeCertificate;
};
PublishedUser publishedFromTenant(const tenant::TenantUser &tenantUser);
QList<PublishedUser> publishedFromTenant(const QList<tenant::TenantUser> &users);
Value valueOf(const QByteArray &bytes);

// One change: what a person approves and the publisher applies.
struct PlanItem
{
    int number = 0; // 1-based, in the sorted order
    QString userKey; // the directory DN (stable across runs)
    QString userLabel; // UPN, else mail, for people
    QString tenantObjectId; // Entra object id
    MatchMethod matchedBy = MatchMethod::SourceAnchor;
    Channel channel = Channel::Exchange;
    ItemAttribute attribute = ItemAttribute::UserCertificate;
    Operation operation = Operation::Replace;
    QString target; // Exchange: identity; Graph: object id; Directory: DN
    QString recipientTypeDetails; // Exchange: picks Set-Mailbox or Set-MailUser
    QList<Value> oldValues; // the target's values as the diff saw them
    QList<Value> newValues; // what the target holds afterwards
    QList<Value> removed; // oldValues \ newValues (by sha256)
    QList<Value> added; // newValues \ oldValues
    QStringList reasons; // why values go: "expired", "over_limit", ...

    [[nodiscard]] QString key() const; // "dn|channel|attribute": stable across runs
};

struct UnmatchedDirectoryUser
{
    QString dn;
    QString label;
    QString reason; // "no_tenant_user", "anchor_mismatch", "ambiguous_mail", "tenant_user_taken"
};

struct UnmatchedTenantUser
{
    QString id;
    QString userPrincipalName;
};

enum class WarningKind {
    StaleSmime, // Outlook picks userSMIMECertificate's older certificate over a newer userCertificate
    NoUsableCertificate, // values exist, none usable to encrypt to
    NoRecipient, // cloud-mastered user with certificates but no Exchange recipient to carry them
};
QString warningKindName(WarningKind kind); // "stale_smime", "no_usable_certificate", "no_recipient"

struct Warning
{
    WarningKind kind = WarningKind::StaleSmime;
    QString userKey;
    QString userLabel;
    QString message;
};

// A synced user whose tenant values differ from what AD holds after hygiene: Entra Connect has
// not carried them yet (or is blocked). Not an item: nothing certsync can write in the cloud.
struct AwaitingEntraConnect
{
    QString userKey;
    QString userLabel;
    ItemAttribute attribute = ItemAttribute::UserCertificate;
    int missing = 0; // in the tenant, expected from AD
    int extra = 0; // in the tenant, no longer in AD
};

// The tenant item's user key and label: no DN is without '=', so it never meets a user's.
inline constexpr auto SmimeCollectionKey = "SmimeConfig";
inline constexpr auto SmimeCollectionLabel = "Exchange Online S/MIME CA collection";

struct DiffInput
{
    const QList<directory::DirectoryUser> *directory = nullptr;
    const QList<PublishedUser> *tenant = nullptr;
    PolicySettings settings;
    // Exchange Online's S/MIME CA collection as read (Get-SmimeConfig, decoded, DER kept) and the
    // CA certificates of the configured trust bundle. With both, the diff stages one item (see
    // smimeCollectionItem) that adds to the collection what senders' certificates need. nullptr: not
    // read, no such item.
    const QList<certs::Certificate> *smimeCollection = nullptr;
    const QList<certs::Certificate> *trustBundle = nullptr;
    // Large inputs (thousands of users) run the per-user policy on two cores; false keeps it on the
    // calling thread. The result is the same either way.
    bool parallel = true;
};

struct DiffResult
{
    QList<PlanItem> items; // sorted by user key, channel, attribute
    QList<UnmatchedDirectoryUser> unmatchedDirectory; // sorted by DN
    QList<UnmatchedTenantUser> unmatchedTenant; // sorted by id
    QList<Warning> warnings; // sorted by user key, kind
    QList<AwaitingEntraConnect> awaiting; // sorted by user key, attribute
    int matched = 0;
    int matchedByFallback = 0;
    qint64 removedValues = 0; // over all items: what the deletion threshold counts
    qint64 addedValues = 0;
};

// Who is who: each directory user's tenant counterpart, by source anchor first (over everyone),
// then UPN, then mail; the diff and the console's helpdesk view both pair users through this.
struct UserMatches
{
    QList<int> tenantIndex; // per directory user: index into the tenant list, -1 when unmatched
    QList<MatchMethod> method; // per directory user; meaningful where matched
    QList<UnmatchedDirectoryUser> unmatchedDirectory; // in directory order
    QList<UnmatchedTenantUser> unmatchedTenant; // in tenant order
};
UserMatches matchUsers(const QList<directory::DirectoryUser> &directory, const QList<PublishedUser> &tenant,
                       const PolicySettings &settings);

// Outlook reads userSMIMECertificate before userCertificate and takes its certificate while it is
// unexpired (usable or not). Stale: userCertificate holds a newer usable certificate than that one.
// The one rule behind the diff's StaleSmime warning and the helpdesk view's Outlook warning.
// Outlook's pick (engine::outlookPick) taking userSMIMECertificate while userCertificate holds a
// usable certificate that is newer, or usable where the pick is not (expired, revoked: Outlook does
// not fall back, DOMAIN.md).
struct StaleSmimeSelection
{
    QDateTime smimeNotAfter; // what Outlook picks
    QDateTime userCertificateNotAfter; // the newer one it passes over
    bool smimeUsable = true; // false: Outlook picks a certificate it cannot encrypt to
};
std::optional<StaleSmimeSelection> staleSmimeSelection(const QList<certs::AnalyzedValue> &values);

// The item that publishes Exchange Online's S/MIME CA collection, when it lacks CAs that the
// certificates senders get need: for every matched user with an Exchange recipient, each of the
// directory's user certificates that can be encrypted to is walked up its issuing chain through the
// collection and the trust bundle; the bundle's CAs on such chains that the collection lacks are
// added. Nothing is ever removed (CAs others uploaded stay), and a CA outside the bundle is never
// added: the new collection is the old one in its order, then the missing CAs. nullopt: nothing
// missing. `matchOf`: per directory user, the index of its tenant user or -1 (UserMatches).
std::optional<PlanItem> smimeCollectionItem(const QList<directory::DirectoryUser> &directory,
                                            const QList<PublishedUser> &tenant, const QList<int> &matchOf,
                                            const QList<certs::Certificate> &collection,
                                            const QList<certs::Certificate> &trustBundle);

DiffResult computeDiff(const DiffInput &input);

} // namespace certsync::engine
