#include "tenant/GraphClient.h"

#include "tenant/RetryAfter.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QTimer>
#include <QUrlQuery>

namespace certsync::tenant {

namespace {

TenantError canceledError()
{
    TenantError e;
    e.source = TenantError::Source::Canceled;
    e.code = errc::Canceled;
    e.message = QStringLiteral("canceled");
    return e;
}

QStringList toStrings(const QJsonValue &v)
{
    QStringList out;
    for (const QJsonValue &x : v.toArray())
        out.append(x.toString());
    return out;
}

QString userPath(const QString &idOrUpn)
{
    return QStringLiteral("/users/") + QString::fromLatin1(QUrl::toPercentEncoding(idOrUpn, "@"));
}

} // namespace

GraphUser GraphUser::fromJson(const QJsonObject &o)
{
    GraphUser u;
    u.id = o.value(QStringLiteral("id")).toString();
    u.userPrincipalName = o.value(QStringLiteral("userPrincipalName")).toString();
    u.displayName = o.value(QStringLiteral("displayName")).toString();
    u.mail = o.value(QStringLiteral("mail")).toString();
    u.proxyAddresses = toStrings(o.value(QStringLiteral("proxyAddresses")));
    u.onPremisesImmutableId = o.value(QStringLiteral("onPremisesImmutableId")).toString();
    const QJsonValue synced = o.value(QStringLiteral("onPremisesSyncEnabled"));
    if (synced.isBool())
        u.onPremisesSyncEnabled = synced.toBool();
    u.accountEnabled = o.value(QStringLiteral("accountEnabled")).toBool(true);
    u.certificateUserIds = toStrings(
        o.value(QStringLiteral("authorizationInfo")).toObject().value(QStringLiteral("certificateUserIds")));
    return u;
}

GraphClient::GraphClient(TenantHttp *http, QObject *parent)
    : QObject(parent)
    , m_http(http)
{ }

QStringList GraphClient::userSelect()
{
    return { QStringLiteral("id"),
             QStringLiteral("userPrincipalName"),
             QStringLiteral("displayName"),
             QStringLiteral("mail"),
             QStringLiteral("proxyAddresses"),
             QStringLiteral("onPremisesImmutableId"),
             QStringLiteral("onPremisesSyncEnabled"),
             QStringLiteral("accountEnabled"),
             QStringLiteral("authorizationInfo") };
}

bool GraphClient::isOurs(const QUrl &link) const
{
    // A next/delta link carries our bearer token along: follow it only to the configured service.
    const QUrl base = m_http->settings().graphBase();
    return link.scheme() == QStringLiteral("https") && link.host() == base.host()
        && link.port(443) == base.port(443) && link.path().startsWith(base.path());
}

void GraphClient::readPages(const QUrl &url, std::function<bool(int)> onPage, QList<QJsonObject> soFar,
                            std::function<void(TenantResult<QPair<QList<QJsonObject>, QJsonObject>>)> done)
{
    if (!m_http)
        return;
    TenantRequest request;
    request.url = url;
    request.what = QStringLiteral("GET %1").arg(url.path());
    QPointer<GraphClient> self(this);
    m_http->send(request,
                 [self, onPage, soFar = std::move(soFar), done](TenantResult<TenantResponse> result) mutable {
                     if (!self)
                         return;
                     if (!result) {
                         done(result.error());
                         return;
                     }
                     const QJsonObject page = result->json();
                     for (const QJsonValue &v : page.value(QStringLiteral("value")).toArray())
                         soFar.append(v.toObject());
                     if (onPage && !onPage(int(soFar.size()))) {
                         done(canceledError());
                         return;
                     }
                     const QString next = page.value(QStringLiteral("@odata.nextLink")).toString();
                     if (next.isEmpty()) {
                         done(qMakePair(soFar, page));
                         return;
                     }
                     const QUrl nextUrl(next);
                     if (!self->isOurs(nextUrl)) {
                         TenantError e;
                         e.source = TenantError::Source::Protocol;
                         e.code = QStringLiteral("foreignLink");
                         e.message = QStringLiteral("refusing to follow a next link to another service: %1")
                                         .arg(nextUrl.host());
                         done(e);
                         return;
                     }
                     self->readPages(nextUrl, onPage, std::move(soFar), done);
                 });
}

void GraphClient::listUsers(std::function<bool(int)> onPage,
                            std::function<void(TenantResult<QList<GraphUser>>)> done)
{
    QUrl url(m_http->settings().graphBase().toString() + QStringLiteral("/users"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("$select"), userSelect().join(QLatin1Char(',')));
    query.addQueryItem(QStringLiteral("$top"), QString::number(MaxPageSize));
    url.setQuery(query);
    readPages(url, std::move(onPage), {},
              [done](TenantResult<QPair<QList<QJsonObject>, QJsonObject>> result) {
                  if (!result) {
                      done(result.error());
                      return;
                  }
                  QList<GraphUser> users;
                  users.reserve(result->first.size());
                  for (const QJsonObject &o : std::as_const(result->first))
                      users.append(GraphUser::fromJson(o));
                  done(users);
              });
}

void GraphClient::latestDeltaLink(std::function<void(TenantResult<QString>)> done)
{
    QUrl url(m_http->settings().graphBase().toString() + QStringLiteral("/users/delta"));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("$select"), userSelect().join(QLatin1Char(',')));
    query.addQueryItem(QStringLiteral("$deltatoken"), QStringLiteral("latest"));
    url.setQuery(query);
    readPages(url, {}, {}, [done](TenantResult<QPair<QList<QJsonObject>, QJsonObject>> result) {
        if (!result) {
            done(result.error());
            return;
        }
        const QString link = result->second.value(QStringLiteral("@odata.deltaLink")).toString();
        if (link.isEmpty()) {
            TenantError e;
            e.source = TenantError::Source::Protocol;
            e.code = QStringLiteral("noDeltaLink");
            e.message = QStringLiteral("users/delta ended without @odata.deltaLink");
            done(e);
            return;
        }
        done(link);
    });
}

void GraphClient::readDelta(const QString &deltaLink, std::function<bool(int)> onPage,
                            std::function<void(TenantResult<UserDelta>)> done)
{
    QUrl url;
    if (deltaLink.isEmpty()) {
        url = QUrl(m_http->settings().graphBase().toString() + QStringLiteral("/users/delta"));
        QUrlQuery query;
        query.addQueryItem(QStringLiteral("$select"), userSelect().join(QLatin1Char(',')));
        url.setQuery(query);
    } else {
        url = QUrl(deltaLink);
        if (!isOurs(url)) {
            TenantError e;
            e.source = TenantError::Source::Configuration;
            e.code = QStringLiteral("foreignLink");
            e.message = QStringLiteral("the stored delta link points to another service: %1").arg(url.host());
            done(e);
            return;
        }
    }
    readPages(url, std::move(onPage), {},
              [done](TenantResult<QPair<QList<QJsonObject>, QJsonObject>> result) {
                  if (!result) {
                      TenantError e = result.error();
                      // Branch on the code, whatever the status Graph pairs it with.
                      if (e.code.compare(errc::SyncStateNotFound, Qt::CaseInsensitive) == 0
                          || e.innerCode.compare(errc::SyncStateNotFound, Qt::CaseInsensitive) == 0)
                          e.code = errc::SyncStateNotFound;
                      done(e);
                      return;
                  }
                  UserDelta delta;
                  for (const QJsonObject &o : std::as_const(result->first)) {
                      if (o.contains(QStringLiteral("@removed")))
                          delta.removedIds.append(o.value(QStringLiteral("id")).toString());
                      else
                          delta.changed.append(GraphUser::fromJson(o));
                  }
                  delta.deltaLink = result->second.value(QStringLiteral("@odata.deltaLink")).toString();
                  if (delta.deltaLink.isEmpty()) {
                      TenantError e;
                      e.source = TenantError::Source::Protocol;
                      e.code = QStringLiteral("noDeltaLink");
                      e.message = QStringLiteral("users/delta ended without @odata.deltaLink");
                      done(e);
                      return;
                  }
                  done(delta);
              });
}

void GraphClient::getUser(const QString &idOrUpn, std::function<void(TenantResult<GraphUser>)> done)
{
    if (!m_http)
        return;
    QUrl url(m_http->settings().graphBase().toString() + userPath(idOrUpn));
    QUrlQuery query;
    query.addQueryItem(QStringLiteral("$select"), userSelect().join(QLatin1Char(',')));
    url.setQuery(query);
    TenantRequest request;
    request.url = url;
    request.what = QStringLiteral("GET user %1").arg(idOrUpn);
    m_http->send(request, [done](TenantResult<TenantResponse> result) {
        if (!result)
            done(result.error());
        else
            done(GraphUser::fromJson(result->json()));
    });
}

void GraphClient::setCertificateUserIds(const CertificateUserIdsChange &change,
                                        std::function<void(TenantResult<WriteReceipt>)> done)
{
    patchAttempt(change, 0, std::move(done));
}

void GraphClient::patchAttempt(const CertificateUserIdsChange &change, int writes,
                               std::function<void(TenantResult<WriteReceipt>)> done)
{
    if (!m_http)
        return;
    TenantRequest request;
    request.verb = "PATCH";
    request.url = QUrl(m_http->settings().graphBase().toString() + userPath(change.userId));
    request.body =
        QJsonDocument(QJsonObject { { QStringLiteral("authorizationInfo"),
                                      QJsonObject { { QStringLiteral("certificateUserIds"),
                                                      QJsonArray::fromStringList(change.values) } } } })
            .toJson(QJsonDocument::Compact);
    request.isWrite = true;
    request.what = QStringLiteral("PATCH certificateUserIds of %1").arg(change.userId);
    QPointer<GraphClient> self(this);
    m_http->send(request, [self, change, writes, done](TenantResult<TenantResponse> result) {
        if (!self)
            return;
        if (result) {
            done(WriteReceipt { result->requestId, result->clientRequestId, writes + result->attempts,
                                false });
            return;
        }
        if (!result.error().outcomeUnknown || writes + 1 >= self->m_http->settings().maxAttempts) {
            done(result.error());
            return;
        }
        // The answer was lost: the PATCH may have been applied. Look before writing again.
        self->getUser(change.userId,
                      [self, change, writes, done, lost = result.error()](TenantResult<GraphUser> user) {
                          if (!self)
                              return;
                          if (!user) {
                              TenantError e = lost;
                              e.message += QStringLiteral("; reading the user to check failed too: ")
                                  + user.error().toString();
                              done(e);
                              return;
                          }
                          if (user->certificateUserIds == change.values) {
                              done(WriteReceipt { {}, lost.clientRequestId, writes + 1, true });
                              return;
                          }
                          self->patchAttempt(change, writes + 1, done);
                      });
    });
}

void GraphClient::batch(const QList<BatchRequest> &requests, std::function<void(QList<BatchResponse>)> done)
{
    auto results = std::make_shared<QHash<QString, BatchResponse>>();
    const int chunks = int((requests.size() + MaxBatchItems - 1) / MaxBatchItems);
    if (chunks == 0) {
        done({});
        return;
    }
    auto pending = std::make_shared<int>(chunks);
    QStringList order;
    for (const BatchRequest &r : requests)
        order.append(r.id);
    auto chunkDone = [pending, results, order, done] {
        if (--*pending > 0)
            return;
        QList<BatchResponse> ordered;
        for (const QString &id : order)
            ordered.append(results->value(id));
        done(ordered);
    };
    for (qsizetype i = 0; i < requests.size(); i += MaxBatchItems)
        sendChunk(requests.mid(i, MaxBatchItems), {}, results, chunkDone);
}

void GraphClient::sendChunk(QList<BatchRequest> chunk, QHash<QString, int> attempts,
                            std::shared_ptr<QHash<QString, BatchResponse>> results,
                            std::function<void()> chunkDone)
{
    if (!m_http)
        return;
    QJsonArray items;
    bool writes = false;
    for (const BatchRequest &r : std::as_const(chunk)) {
        ++attempts[r.id];
        QJsonObject item { { QStringLiteral("id"), r.id },
                           { QStringLiteral("method"), QString::fromLatin1(r.method) },
                           { QStringLiteral("url"), r.url } };
        if (r.body) {
            // Graph refuses a batch item with a body but no Content-Type.
            item.insert(
                QStringLiteral("headers"),
                QJsonObject { { QStringLiteral("Content-Type"), QStringLiteral("application/json") } });
            item.insert(QStringLiteral("body"), *r.body);
        }
        writes |= r.method != "GET";
        items.append(item);
    }
    TenantRequest request;
    request.verb = "POST";
    request.url = QUrl(m_http->settings().graphBase().toString() + QStringLiteral("/$batch"));
    request.body =
        QJsonDocument(QJsonObject { { QStringLiteral("requests"), items } }).toJson(QJsonDocument::Compact);
    request.isWrite = writes;
    request.what = QStringLiteral("$batch of %1").arg(chunk.size());
    QPointer<GraphClient> self(this);
    m_http->send(request, [self, chunk, attempts, results, chunkDone](TenantResult<TenantResponse> result) {
        if (!self)
            return;
        if (!result) {
            for (const BatchRequest &r : chunk) {
                BatchResponse resp;
                resp.id = r.id;
                resp.status = result.error().httpStatus;
                resp.attempts = attempts.value(r.id);
                resp.error = result.error();
                results->insert(r.id, resp);
            }
            chunkDone();
            return;
        }
        const TenantSettings &settings = self->m_http->settings();
        QHash<QString, QJsonObject> byId;
        for (const QJsonValue &v : result->json().value(QStringLiteral("responses")).toArray())
            byId.insert(v.toObject().value(QStringLiteral("id")).toString(), v.toObject());
        QList<BatchRequest> again;
        int delayMs = 0;
        for (const BatchRequest &r : chunk) {
            const QJsonObject item = byId.value(r.id);
            BatchResponse resp;
            resp.id = r.id;
            resp.status = item.value(QStringLiteral("status")).toInt();
            resp.attempts = attempts.value(r.id);
            const QJsonObject headers = item.value(QStringLiteral("headers")).toObject();
            for (auto it = headers.begin(); it != headers.end(); ++it)
                resp.headers.insert(it.key().toLower(), it.value().toString());
            resp.body = item.value(QStringLiteral("body")).toObject();
            const bool retryable = resp.status == 429 || resp.status == 503 || item.isEmpty();
            qint64 throttledFor = 0;
            if (retryable && resp.attempts < settings.maxAttempts) {
                // Each item is throttled on its own: honour its Retry-After, else back off.
                const std::optional<qint64> retryAfter =
                    parseRetryAfterSeconds(resp.headers.value(QStringLiteral("retry-after")).toLatin1(),
                                           QDateTime::currentDateTimeUtc());
                if (!retryAfter || *retryAfter <= settings.maxRetryAfterSeconds) {
                    const int backoff = int(
                        std::min<qint64>(settings.backoffMaxMs,
                                         qint64(settings.backoffBaseMs) << std::min(resp.attempts - 1, 20)));
                    delayMs = std::max(delayMs,
                                       retryAfter ? int(*retryAfter * 1000)
                                                  : backoff / 2
                                               + int(QRandomGenerator::global()->bounded(backoff / 2 + 1)));
                    again.append(r);
                    continue;
                }
                throttledFor = *retryAfter; // past the cap: the item fails, the caller ends its run
            }
            if (resp.status < 200 || resp.status >= 300) {
                TenantError e = item.isEmpty()
                    ? TenantError {}
                    : TenantError::fromGraph(resp.status, QJsonDocument(resp.body).toJson());
                if (item.isEmpty()) {
                    e.source = TenantError::Source::Protocol;
                    e.code = QStringLiteral("missingBatchResponse");
                    e.message = QStringLiteral("the batch answer has no response for item %1").arg(r.id);
                }
                if (resp.status == 429 || resp.status == 503) {
                    e.code = errc::Throttled;
                    e.retryAfterSeconds = throttledFor;
                    if (e.retryAfterSeconds > 0)
                        e.message =
                            QStringLiteral("throttled for %1 s by Microsoft Graph (over the %2 s this "
                                           "run waits); %3")
                                .arg(e.retryAfterSeconds)
                                .arg(settings.maxRetryAfterSeconds)
                                .arg(e.message);
                }
                if (e.requestId.isEmpty())
                    e.requestId = resp.headers.value(QStringLiteral("request-id"), result->requestId);
                e.clientRequestId = result->clientRequestId;
                e.attempts = resp.attempts;
                resp.error = e;
            }
            results->insert(r.id, resp);
        }
        if (again.isEmpty()) {
            chunkDone();
            return;
        }
        QTimer::singleShot(std::min(delayMs, settings.maxRetryAfterSeconds * 1000), self.data(),
                           [self, again, attempts, results, chunkDone] {
                               self->sendChunk(again, attempts, results, chunkDone);
                           });
    });
}

void GraphClient::setCertificateUserIdsBatched(const QList<CertificateUserIdsChange> &changes,
                                               std::function<void(QList<TenantResult<WriteReceipt>>)> done)
{
    QList<BatchRequest> requests;
    for (qsizetype i = 0; i < changes.size(); ++i) {
        BatchRequest r;
        r.id = QString::number(i + 1);
        r.method = "PATCH";
        r.url = userPath(changes[i].userId);
        r.body = QJsonObject { { QStringLiteral("authorizationInfo"),
                                 QJsonObject { { QStringLiteral("certificateUserIds"),
                                                 QJsonArray::fromStringList(changes[i].values) } } } };
        requests.append(r);
    }
    QPointer<GraphClient> self(this);
    batch(requests, [self, changes, done](QList<BatchResponse> responses) {
        if (!self)
            return;
        auto results = std::make_shared<QList<TenantResult<WriteReceipt>>>();
        for (qsizetype i = 0; i < responses.size(); ++i) {
            const BatchResponse &r = responses[i];
            if (r.error)
                results->append(*r.error);
            else
                results->append(
                    WriteReceipt { r.headers.value(QStringLiteral("request-id")), {}, r.attempts, false });
        }
        // Items whose batch was lost on the way back: check each, write again only where needed.
        auto pending = std::make_shared<int>(1);
        auto finishOne = [pending, results, done] {
            if (--*pending == 0)
                done(*results);
        };
        for (qsizetype i = 0; i < results->size(); ++i) {
            if ((*results)[i].ok() || !(*results)[i].error().outcomeUnknown)
                continue;
            ++*pending;
            const CertificateUserIdsChange change = changes[i];
            const TenantError lost = (*results)[i].error();
            self->getUser(change.userId,
                          [self, change, lost, results, i, finishOne](TenantResult<GraphUser> user) {
                              if (!self)
                                  return;
                              if (!user) {
                                  (*results)[i] = lost;
                                  finishOne();
                              } else if (user->certificateUserIds == change.values) {
                                  (*results)[i] = WriteReceipt { {}, lost.clientRequestId, 1, true };
                                  finishOne();
                              } else {
                                  self->setCertificateUserIds(
                                      change, [results, i, finishOne](TenantResult<WriteReceipt> r) {
                                          (*results)[i] = r;
                                          finishOne();
                                      });
                              }
                          });
        }
        finishOne();
    });
}

} // namespace certsync::tenant
