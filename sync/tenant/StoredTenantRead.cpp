#include "tenant/StoredTenantRead.h"

#include "store/StateStore.h"
#include "tenant/GraphClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace certsync::tenant {

namespace {

constexpr int format = 1;

// The Graph shape, so that GraphUser::fromJson reads it back.
QJsonObject userJson(const GraphUser &u)
{
    QJsonObject o { { QStringLiteral("id"), u.id },
                    { QStringLiteral("userPrincipalName"), u.userPrincipalName },
                    { QStringLiteral("displayName"), u.displayName },
                    { QStringLiteral("mail"), u.mail },
                    { QStringLiteral("proxyAddresses"), QJsonArray::fromStringList(u.proxyAddresses) },
                    { QStringLiteral("onPremisesImmutableId"), u.onPremisesImmutableId },
                    { QStringLiteral("accountEnabled"), u.accountEnabled },
                    { QStringLiteral("authorizationInfo"),
                      QJsonObject { { QStringLiteral("certificateUserIds"),
                                      QJsonArray::fromStringList(u.certificateUserIds) } } } };
    if (u.onPremisesSyncEnabled)
        o.insert(QStringLiteral("onPremisesSyncEnabled"), *u.onPremisesSyncEnabled);
    return o;
}

} // namespace

QString storedReadKey(const TenantSettings &settings)
{
    return QStringLiteral("graph users/delta %1 tenant=%2 $select=%3")
        .arg(settings.graphBase().toString(), settings.tenantId,
             GraphClient::userSelect().join(QLatin1Char(',')));
}

StoredTenantRead loadTenantRead(const store::StateStore &state, const TenantSettings &settings)
{
    StoredTenantRead stored;
    const QString key = storedReadKey(settings);
    const QJsonObject mark = QJsonDocument::fromJson(state.mark(key)).object();
    const QString link = mark.value(QStringLiteral("deltaLink")).toString();
    if (link.isEmpty()) {
        stored.why = QStringLiteral("no stored delta link for this tenant and $select: reading every user");
        return stored;
    }
    const QJsonObject users =
        QJsonDocument::fromJson(qUncompress(state.snapshot(key))).object(); // qUncompress: empty on damage
    if (users.value(QStringLiteral("format")).toInt() != format
        || users.value(QStringLiteral("deltaLink")).toString() != link) {
        stored.why = QStringLiteral(
            "the stored delta link has no matching stored users (a damaged or older state database): "
            "reading every user");
        return stored;
    }
    TenantSnapshot previous;
    previous.deltaLink = link;
    previous.takenAt = QDateTime::fromString(mark.value(QStringLiteral("takenAt")).toString(), Qt::ISODate);
    const QJsonArray list = users.value(QStringLiteral("users")).toArray();
    previous.users.reserve(list.size());
    for (const QJsonValue &v : list)
        previous.users.append(TenantUser { GraphUser::fromJson(v.toObject()), std::nullopt });
    stored.previous = std::move(previous);
    return stored;
}

Result<void> saveTenantRead(store::StateStore &state, const TenantSettings &settings,
                            const TenantSnapshot &snapshot)
{
    const QString key = storedReadKey(settings);
    if (snapshot.deltaLink.isEmpty())
        return state.forget(key);
    QJsonArray list;
    for (const TenantUser &u : snapshot.users)
        list.append(userJson(u.user));
    const QJsonObject users { { QStringLiteral("format"), format },
                              { QStringLiteral("deltaLink"), snapshot.deltaLink },
                              { QStringLiteral("users"), list } };
    // The users first: a link is used only when the users stored beside it carry the same link.
    if (auto saved = state.saveSnapshot(key, qCompress(QJsonDocument(users).toJson(QJsonDocument::Compact)));
        !saved)
        return saved;
    const QJsonObject mark { { QStringLiteral("deltaLink"), snapshot.deltaLink },
                             { QStringLiteral("takenAt"), snapshot.takenAt.toString(Qt::ISODate) } };
    return state.saveMark(key, QJsonDocument(mark).toJson(QJsonDocument::Compact));
}

} // namespace certsync::tenant
