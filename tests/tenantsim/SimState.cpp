#include "SimState.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSaveFile>
#include <QUuid>

#include <algorithm>

namespace certsync::tenantsim {

namespace {

QStringList strings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &x : v.toArray())
        out.append(x.toString());
    return out;
}

QList<QByteArray> blobs(const QJsonValue &v)
{
    QList<QByteArray> out;
    for (const QJsonValue &x : v.toArray())
        out.append(QByteArray::fromBase64(x.toString().toLatin1()));
    return out;
}

QJsonArray toArray(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

QJsonArray toArray(const QList<QByteArray> &list)
{
    QJsonArray out;
    for (const QByteArray &b : list)
        out.append(QString::fromLatin1(b.toBase64()));
    return out;
}

// Stable ids for seeds that give none: the same seed always yields the same tenant.
QString derivedId(const QString &upn)
{
    return QUuid::createUuidV5(QUuid(QStringLiteral("{6f1c2a52-8a43-4c1e-9a57-1c0de5ce7715}")), upn.toLower())
        .toString(QUuid::WithoutBraces);
}

} // namespace

QString SimState::immutableIdFromObjectGuid(const QString &guid)
{
    const QUuid uuid(guid);
    if (uuid.isNull())
        return {};
    // QUuid::toRfc4122() is big-endian throughout; AD's objectGUID is the Windows GUID layout.
    QByteArray b = uuid.toRfc4122();
    std::reverse(b.begin(), b.begin() + 4);
    std::reverse(b.begin() + 4, b.begin() + 6);
    std::reverse(b.begin() + 6, b.begin() + 8);
    return QString::fromLatin1(b.toBase64());
}

bool SimState::loadJson(const QJsonObject &root, QString *error)
{
    tenantId = root.value(QStringLiteral("tenantId")).toString();
    if (QUuid(tenantId).isNull()) {
        *error = QStringLiteral("tenantId must be a GUID");
        return false;
    }
    version = root.value(QStringLiteral("version")).toInteger(1);
    // A tenant seeded afresh has a sync state of its own: a delta token another simulator issued
    // (another run, the same port by chance) is unknown here, as it would be to another tenant.
    deltaGeneration = quint32(root.value(QStringLiteral("deltaGeneration"))
                                  .toInteger(qint64(QRandomGenerator::system()->bounded(1u << 30) + 1)));
    apps.clear();
    for (const QJsonValue &v : root.value(QStringLiteral("apps")).toArray()) {
        const QJsonObject o = v.toObject();
        SimApp app;
        app.clientId = o.value(QStringLiteral("clientId")).toString();
        app.secretSha256 = o.value(QStringLiteral("secretSha256")).toString().toLatin1().toLower();
        app.certificatesDer = blobs(o.value(QStringLiteral("certificates")));
        if (app.clientId.isEmpty()) {
            *error = QStringLiteral("an app without clientId");
            return false;
        }
        apps.append(app);
    }
    smimeCertificateIssuingCa =
        QByteArray::fromBase64(root.value(QStringLiteral("smimeCertificateIssuingCA")).toString().toLatin1());
    smimeConfigWrites = root.value(QStringLiteral("smimeConfigWrites")).toInt(0);
    users.clear();
    QHash<QString, int> seen;
    for (const QJsonValue &v : root.value(QStringLiteral("users")).toArray()) {
        const QJsonObject o = v.toObject();
        SimUser u;
        u.userPrincipalName = o.value(QStringLiteral("userPrincipalName")).toString();
        if (u.userPrincipalName.isEmpty()) {
            *error = QStringLiteral("a user without userPrincipalName");
            return false;
        }
        u.id = o.value(QStringLiteral("id")).toString();
        if (u.id.isEmpty())
            u.id = derivedId(u.userPrincipalName);
        u.displayName = o.value(QStringLiteral("displayName"))
                            .toString(u.userPrincipalName.section(QLatin1Char('@'), 0, 0));
        u.mail = o.value(QStringLiteral("mail")).toString();
        u.proxyAddresses = strings(o.value(QStringLiteral("proxyAddresses")));
        if (u.proxyAddresses.isEmpty() && !u.mail.isEmpty())
            u.proxyAddresses = { QStringLiteral("SMTP:") + u.mail };
        u.onPremisesImmutableId = o.value(QStringLiteral("onPremisesImmutableId")).toString();
        if (u.onPremisesImmutableId.isEmpty() && o.contains(QStringLiteral("objectGuid")))
            u.onPremisesImmutableId =
                immutableIdFromObjectGuid(o.value(QStringLiteral("objectGuid")).toString());
        const QJsonValue synced = o.value(QStringLiteral("onPremisesSyncEnabled"));
        if (synced.isBool())
            u.onPremisesSyncEnabled = synced.toBool();
        else if (!u.onPremisesImmutableId.isEmpty())
            u.onPremisesSyncEnabled = true; // a source anchor means the seed describes a synced user
        u.accountEnabled = o.value(QStringLiteral("accountEnabled")).toBool(true);
        u.certificateUserIds = strings(o.value(QStringLiteral("certificateUserIds")));
        u.recipientTypeDetails = o.value(QStringLiteral("recipientTypeDetails")).toString();
        u.userCertificate = blobs(o.value(QStringLiteral("userCertificate")));
        u.userSMimeCertificate = blobs(o.value(QStringLiteral("userSMimeCertificate")));
        u.exchangeCloudManaged = o.value(QStringLiteral("isExchangeCloudManaged")).toBool(false);
        u.version = o.value(QStringLiteral("version")).toInteger(1);
        u.deleted = o.value(QStringLiteral("deleted")).toBool(false);
        u.graphWrites = o.value(QStringLiteral("graphWrites")).toInt(0);
        u.exchangeWrites = o.value(QStringLiteral("exchangeWrites")).toInt(0);
        if (seen.contains(u.id)) {
            *error = QStringLiteral("duplicate user id %1").arg(u.id);
            return false;
        }
        seen.insert(u.id, 1);
        version = std::max(version, u.version);
        users.append(u);
    }
    std::sort(users.begin(), users.end(), [](const SimUser &a, const SimUser &b) { return a.id < b.id; });
    return true;
}

QJsonObject SimState::toJson() const
{
    QJsonArray appArray;
    for (const SimApp &app : apps) {
        appArray.append(
            QJsonObject { { QStringLiteral("clientId"), app.clientId },
                          { QStringLiteral("secretSha256"), QString::fromLatin1(app.secretSha256) },
                          { QStringLiteral("certificates"), toArray(app.certificatesDer) } });
    }
    QJsonArray userArray;
    for (const SimUser &u : users) {
        QJsonObject o { { QStringLiteral("id"), u.id },
                        { QStringLiteral("userPrincipalName"), u.userPrincipalName },
                        { QStringLiteral("displayName"), u.displayName },
                        { QStringLiteral("mail"), u.mail },
                        { QStringLiteral("proxyAddresses"), toArray(u.proxyAddresses) },
                        { QStringLiteral("onPremisesImmutableId"), u.onPremisesImmutableId },
                        { QStringLiteral("accountEnabled"), u.accountEnabled },
                        { QStringLiteral("certificateUserIds"), toArray(u.certificateUserIds) },
                        { QStringLiteral("recipientTypeDetails"), u.recipientTypeDetails },
                        { QStringLiteral("userCertificate"), toArray(u.userCertificate) },
                        { QStringLiteral("userSMimeCertificate"), toArray(u.userSMimeCertificate) },
                        { QStringLiteral("isExchangeCloudManaged"), u.exchangeCloudManaged },
                        { QStringLiteral("version"), u.version },
                        { QStringLiteral("deleted"), u.deleted },
                        { QStringLiteral("graphWrites"), u.graphWrites },
                        { QStringLiteral("exchangeWrites"), u.exchangeWrites } };
        o.insert(QStringLiteral("onPremisesSyncEnabled"),
                 u.onPremisesSyncEnabled ? QJsonValue(*u.onPremisesSyncEnabled)
                                         : QJsonValue(QJsonValue::Null));
        userArray.append(o);
    }
    return QJsonObject { { QStringLiteral("tenantId"), tenantId },
                         { QStringLiteral("version"), version },
                         { QStringLiteral("deltaGeneration"), qint64(deltaGeneration) },
                         { QStringLiteral("apps"), appArray },
                         { QStringLiteral("smimeCertificateIssuingCA"),
                           QString::fromLatin1(smimeCertificateIssuingCa.toBase64()) },
                         { QStringLiteral("smimeConfigWrites"), smimeConfigWrites },
                         { QStringLiteral("users"), userArray } };
}

bool SimState::loadFile(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (!doc.isObject()) {
        *error = QStringLiteral("%1: %2").arg(path, parseError.errorString());
        return false;
    }
    return loadJson(doc.object(), error);
}

bool SimState::saveFile(const QString &path, QString *error) const
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = file.errorString();
        return false;
    }
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit()) {
        *error = file.errorString();
        return false;
    }
    return true;
}

SimUser *SimState::find(const QString &idOrUpn)
{
    for (SimUser &u : users)
        if (!u.deleted && (u.id == idOrUpn || u.userPrincipalName.compare(idOrUpn, Qt::CaseInsensitive) == 0))
            return &u;
    return nullptr;
}

const SimApp *SimState::app(const QString &clientId) const
{
    for (const SimApp &a : apps)
        if (a.clientId == clientId)
            return &a;
    return nullptr;
}

} // namespace certsync::tenantsim
