#pragma once

// Microsoft Graph, the parts certsync needs: users (matching data and certificateUserIds), their
// delta, PATCH of certificateUserIds, and $batch.

#include "tenant/TenantHttp.h"

#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <functional>
#include <optional>

namespace certsync::tenant {

struct GraphUser
{
    QString id;
    QString userPrincipalName;
    QString displayName;
    QString mail;
    QStringList proxyAddresses;
    QString onPremisesImmutableId; // base64 of the source anchor (objectGUID by default)
    std::optional<bool> onPremisesSyncEnabled; // true: mastered on-premises
    bool accountEnabled = true;
    QStringList certificateUserIds; // authorizationInfo.certificateUserIds

    [[nodiscard]] bool isSynced() const { return onPremisesSyncEnabled.value_or(false); }
    static GraphUser fromJson(const QJsonObject &o);
};

struct UserDelta
{
    QList<GraphUser> changed;
    QStringList removedIds;
    QString deltaLink; // store it; the next round starts there
};

// What a write left behind, for the publish journal.
struct WriteReceipt
{
    QString requestId;
    QString clientRequestId;
    int attempts = 0; // HTTP attempts, throttled ones included
    // The first answer was lost (timeout, dropped connection); a read then showed the desired
    // state in place, so the write was not sent again.
    bool confirmedByRead = false;
};

struct BatchRequest
{
    QString id;
    QByteArray method = "GET";
    QString url; // relative to the Graph base: "/users/{id}"
    std::optional<QJsonObject> body; // sent with Content-Type: application/json
};

struct BatchResponse
{
    QString id;
    int status = 0;
    QHash<QString, QString> headers;
    QJsonObject body;
    int attempts = 0; // item attempts, throttled retries included
    std::optional<TenantError> error; // set for non-2xx items and for items never answered
};

struct CertificateUserIdsChange
{
    QString userId;
    QStringList values;
};

class GraphClient : public QObject
{
    Q_OBJECT
public:
    static constexpr int MaxBatchItems = 20; // Graph's documented limit
    static constexpr int MaxPageSize = 999; // $top for users

    explicit GraphClient(TenantHttp *http, QObject *parent = nullptr);

    // The $select certsync reads: what matching and certificateUserIds need.
    static QStringList userSelect();

    // Reads every user page by page. `onPage` gets the count so far and returns false to stop
    // (cancellation), which fails the read with a Canceled error.
    void listUsers(std::function<bool(int)> onPage, std::function<void(TenantResult<QList<GraphUser>>)> done);
    // A delta link for "from now on", without reading anything ($deltatoken=latest).
    void latestDeltaLink(std::function<void(TenantResult<QString>)> done);
    // An initial round (empty link) or the changes since `deltaLink`. An expired link fails with
    // code errc::SyncStateNotFound: the caller then reads in full.
    void readDelta(const QString &deltaLink, std::function<bool(int)> onPage,
                   std::function<void(TenantResult<UserDelta>)> done);
    void getUser(const QString &idOrUpn, std::function<void(TenantResult<GraphUser>)> done);

    // PATCH authorizationInfo.certificateUserIds (the list is replaced). When the answer is lost,
    // reads the user and writes again only if the values are not in place.
    void setCertificateUserIds(const CertificateUserIdsChange &change,
                               std::function<void(TenantResult<WriteReceipt>)> done);
    // The same for many users through $batch; one result per change, in the order given.
    void setCertificateUserIdsBatched(const QList<CertificateUserIdsChange> &changes,
                                      std::function<void(QList<TenantResult<WriteReceipt>>)> done);

    // $batch with any number of requests: sent in chunks of at most 20; items throttled on their
    // own (429/503 inside the batch) are sent again after their Retry-After; results by id.
    void batch(const QList<BatchRequest> &requests, std::function<void(QList<BatchResponse>)> done);

private:
    void readPages(const QUrl &url, std::function<bool(int)> onPage, QList<QJsonObject> soFar,
                   std::function<void(TenantResult<QPair<QList<QJsonObject>, QJsonObject>>)> done);
    [[nodiscard]] bool isOurs(const QUrl &link) const;
    void patchAttempt(const CertificateUserIdsChange &change, int writes,
                      std::function<void(TenantResult<WriteReceipt>)> done);
    void sendChunk(QList<BatchRequest> chunk, QHash<QString, int> attempts,
                   std::shared_ptr<QHash<QString, BatchResponse>> results, std::function<void()> chunkDone);

    QPointer<TenantHttp> m_http;
};

} // namespace certsync::tenant
