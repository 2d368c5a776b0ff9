#pragma once

// The simulated tenant's data: registered apps, users (Entra ID objects) and their Exchange
// recipients. Loaded from and saved to one JSON file whose format doubles as the seed format
// (see tests/tenantsim/README.md), so that the directory seeder can emit matching data.

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace certsync::tenantsim {

struct SimApp
{
    QString clientId;
    QByteArray secretSha256; // hex; the secret itself is never stored
    QList<QByteArray> certificatesDer; // registered credentials for JWT assertions
};

struct SimUser
{
    QString id; // Entra object id (GUID, lowercase, no braces)
    QString userPrincipalName;
    QString displayName;
    QString mail;
    QStringList proxyAddresses;
    QString onPremisesImmutableId; // base64(objectGUID bytes); empty for cloud-only users
    std::optional<bool> onPremisesSyncEnabled; // null for cloud-only users, as Graph returns it
    bool accountEnabled = true;
    QStringList certificateUserIds;

    QString recipientTypeDetails; // "UserMailbox", "MailUser"; empty: no Exchange recipient
    QList<QByteArray> userCertificate; // DER
    QList<QByteArray> userSMimeCertificate; // DER PKCS#7 (or bare DER X.509)
    // Set-Mailbox -IsExchangeCloudManaged $true: Exchange attributes of a synced recipient mastered in
    // Exchange Online. Seed key "isExchangeCloudManaged". Whether writes of the certificate
    // attributes are then accepted is SimOptions::cloudManagedCertificateWrites.
    bool exchangeCloudManaged = false;

    qint64 version = 0; // last change, for /users/delta
    bool deleted = false; // tombstone kept for delta
    int graphWrites = 0; // applied PATCHes, for exactly-once assertions
    int exchangeWrites = 0; // applied Set-Mailbox/Set-MailUser

    [[nodiscard]] bool isDirSynced() const { return onPremisesSyncEnabled.value_or(false); }
};

class SimState
{
public:
    QString tenantId;
    QList<SimApp> apps;
    QList<SimUser> users; // sorted by id: paging order is stable
    // Set-SmimeConfig -SMIMECertificateIssuingCA: the serialized certificate store (SST) as uploaded;
    // empty: none. Seed/state key "smimeCertificateIssuingCA" (base64).
    QByteArray smimeCertificateIssuingCa;
    int smimeConfigWrites = 0; // applied Set-SmimeConfig, for exactly-once assertions
    qint64 version = 1; // tenant-wide change counter
    quint32 deltaGeneration = 1; // bumped to invalidate every delta token

    bool loadJson(const QJsonObject &root, QString *error);
    [[nodiscard]] QJsonObject toJson() const;
    bool loadFile(const QString &path, QString *error);
    bool saveFile(const QString &path, QString *error) const;

    SimUser *find(const QString &idOrUpn); // live users only
    const SimApp *app(const QString &clientId) const;
    void touch(SimUser &user) { user.version = ++version; }

    // AD stores objectGUID's first three fields little-endian; immutableId is base64 of those bytes.
    static QString immutableIdFromObjectGuid(const QString &guid);
};

} // namespace certsync::tenantsim
