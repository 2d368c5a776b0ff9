// libFuzzer target: everything certsync decodes from Microsoft 365, through the real clients. The
// fuzz bytes are the answers of the "network": TenantHttp sends through a QNetworkAccessManager
// whose replies are made from them, so the token response, the status codes, the headers
// (Retry-After, request-id), the error bodies of the authority, Graph and Exchange, Graph's pages,
// delta rounds and $batch answers and Exchange's InvokeCommand pages all go through the code a
// sync runs, retries and paging included.
//
// Input: the first byte picks the operation ("0" to "9" and ":", see run()); then answers separated by NUL
// bytes, each "<status>\n<name>: <value>\n...\n\n<body>". A status of 0 or one that is not a number is a
// connection dropped after the request left; "refused" is a connection refused. When the answers
// run out, every further request is refused.
#include "tenant/ExchangeClient.h"
#include "tenant/GraphClient.h"
#include "tenant/TenantHttp.h"

#include "FuzzSupport.h"

#include <QCoreApplication>
#include <QEventLoop>
#include <QLoggingCategory>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTimer>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::tenant;

namespace {

struct Answer
{
    int status = 0;
    bool refused = false;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
};

Answer parseAnswer(QByteArrayView text)
{
    Answer a;
    qsizetype end = text.indexOf('\n');
    const QByteArrayView statusLine = end < 0 ? text : text.first(end);
    a.refused = statusLine == "refused";
    a.status = a.refused ? 0 : statusLine.toByteArray().toInt();
    if (end < 0)
        return a;
    qsizetype at = end + 1;
    while (at < text.size()) {
        end = text.indexOf('\n', at);
        if (end < 0)
            end = text.size();
        const QByteArrayView line = text.sliced(at, end - at);
        at = end + 1;
        if (line.isEmpty())
            break;
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            a.headers.append(
                { line.first(colon).toByteArray(), line.sliced(colon + 1).trimmed().toByteArray() });
    }
    if (at < text.size())
        a.body = text.sliced(at).toByteArray();
    return a;
}

// A reply made from one answer; finishes from the event loop, as a real one does.
class FuzzReply : public QNetworkReply
{
public:
    FuzzReply(QNetworkAccessManager::Operation op, const QNetworkRequest &request, const Answer &answer,
              QObject *parent)
        : QNetworkReply(parent)
        , m_body(answer.body)
    {
        setOperation(op);
        setRequest(request);
        setUrl(request.url());
        open(QIODevice::ReadOnly);
        if (answer.status > 0) {
            setAttribute(QNetworkRequest::HttpStatusCodeAttribute, answer.status);
            for (const auto &[name, value] : answer.headers)
                setRawHeader(name, value);
            if (answer.status >= 400)
                setError(QNetworkReply::ProtocolInvalidOperationError, QStringLiteral("HTTP error"));
        } else {
            m_body.clear();
            setError(answer.refused ? ConnectionRefusedError : RemoteHostClosedError,
                     QStringLiteral("fuzzed network failure"));
        }
        QTimer::singleShot(0, this, &FuzzReply::deliver);
    }

    void abort() override
    {
        m_body.clear();
        setError(OperationCanceledError, QStringLiteral("aborted"));
    }
    [[nodiscard]] qint64 bytesAvailable() const override
    {
        return m_body.size() + QIODevice::bytesAvailable();
    }
    [[nodiscard]] bool isSequential() const override { return true; }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = std::min<qint64>(maxSize, m_body.size());
        memcpy(data, m_body.constData(), size_t(n));
        m_body.remove(0, qsizetype(n));
        return n;
    }

private:
    void deliver()
    {
        if (isFinished())
            return;
        emit metaDataChanged();
        if (error() != NoError)
            emit errorOccurred(error());
        setFinished(true);
        emit finished();
    }

    QByteArray m_body;
};

class FuzzNetwork : public QNetworkAccessManager
{
public:
    explicit FuzzNetwork(QList<Answer> answers)
        : m_answers(std::move(answers))
    { }

protected:
    QNetworkReply *createRequest(Operation op, const QNetworkRequest &request, QIODevice *) override
    {
        Answer answer;
        answer.refused = true;
        if (m_next < m_answers.size())
            answer = m_answers.at(m_next++);
        return new FuzzReply(op, request, answer, this);
    }

private:
    QList<Answer> m_answers;
    qsizetype m_next = 0;
};

TenantSettings fuzzSettings()
{
    TenantSettings s;
    s.tenantId = QStringLiteral("fuzz-tenant");
    s.clientId = QStringLiteral("fuzz-client");
    s.clientSecret = QStringLiteral("fuzz-secret");
    s.authorityUrl = QStringLiteral("https://login.fuzz.invalid/{tenant}");
    s.graphUrl = QStringLiteral("https://graph.fuzz.invalid/v1.0");
    s.exchangeUrl = QStringLiteral("https://outlook.fuzz.invalid/adminapi/beta/{tenant}");
    s.maxAttempts = 3;
    s.backoffBaseMs = 0; // backoff is then 1-2 ms
    s.backoffMaxMs = 0;
    s.maxRetryAfterSeconds = 0; // only Retry-After: 0 is waited for; longer ones fail the request
    s.throttleGateSeconds = 0;
    return s;
}

void touch(const TenantError &e)
{
    (void)e.toString();
    (void)e.toError();
    (void)e.isRecipientTaskRefusal();
}

template<typename T> void touch(const TenantResult<T> &r)
{
    if (!r.ok())
        touch(r.error());
}

void touch(const GraphUser &u)
{
    (void)u.isSynced();
    (void)u.certificateUserIds.join(QLatin1Char(','));
}

void touch(const ExchangeRecipient &r)
{
    for (const QByteArray &der : r.userCertificate + r.userSMimeCertificate)
        (void)der.size();
}

// Starts operation `op`; `finish` must be called exactly once when it is done.
void run(int op, GraphClient &graph, ExchangeClient &exchange, const std::function<void()> &finish)
{
    const auto more = [](int) { return true; };
    const auto users = [finish](TenantResult<QList<GraphUser>> r) {
        touch(r);
        if (r.ok())
            for (const GraphUser &u : r.value())
                touch(u);
        finish();
    };
    const auto receipt = [finish](TenantResult<WriteReceipt> r) {
        touch(r);
        finish();
    };
    const auto recipients = [finish](TenantResult<QList<ExchangeRecipient>> r) {
        touch(r);
        if (r.ok())
            for (const ExchangeRecipient &x : r.value())
                touch(x);
        finish();
    };
    const auto delta = [finish](TenantResult<UserDelta> r) {
        touch(r);
        if (r.ok())
            for (const GraphUser &u : r->changed)
                touch(u);
        finish();
    };
    const QList<CertificateUserIdsChange> changes {
        { QStringLiteral("u1"), { QStringLiteral("X509:<PN>alice@example.test") } },
        { QStringLiteral("u2"), {} },
        { QStringLiteral("u3"), { QStringLiteral("X509:<RFC822>carol@example.test") } },
    };
    switch (op) {
    case 0:
        graph.listUsers(more, users);
        break;
    case 1:
        graph.readDelta({}, more, delta);
        break;
    case 2:
        graph.readDelta(QStringLiteral("https://graph.fuzz.invalid/v1.0/users/delta?$deltatoken=t0"), more,
                        delta);
        break;
    case 3:
        graph.latestDeltaLink([finish](TenantResult<QString> r) {
            touch(r);
            finish();
        });
        break;
    case 4:
        graph.getUser(QStringLiteral("alice@example.test"), [finish](TenantResult<GraphUser> r) {
            touch(r);
            if (r.ok())
                touch(r.value());
            finish();
        });
        break;
    case 5:
        graph.setCertificateUserIds(changes.first(), receipt);
        break;
    case 6:
        graph.setCertificateUserIdsBatched(changes, [finish](QList<TenantResult<WriteReceipt>> r) {
            check(r.size() == 3, "a batch result count that is not the request count");
            for (const auto &one : r)
                touch(one);
            finish();
        });
        break;
    case 7:
        graph.batch({ { QStringLiteral("1"), "GET", QStringLiteral("/users/u1"), std::nullopt },
                      { QStringLiteral("2"), "GET", QStringLiteral("/users/u2"), std::nullopt } },
                    [finish](QList<BatchResponse> r) {
                        check(r.size() == 2, "a batch response count that is not the request count");
                        for (const BatchResponse &one : r)
                            if (one.error)
                                touch(*one.error);
                        finish();
                    });
        break;
    case 8:
        exchange.listRecipients(QStringLiteral("Get-Mailbox"), more, recipients);
        break;
    case 9:
        exchange.getRecipient(QStringLiteral("alice@example.test"),
                              [finish](TenantResult<ExchangeRecipient> r) {
                                  touch(r);
                                  if (r.ok())
                                      touch(r.value());
                                  finish();
                              });
        break;
    default: {
        RecipientCertificateChange change;
        change.identity = QStringLiteral("alice@example.test");
        change.recipientTypeDetails = QStringLiteral("UserMailbox");
        change.userCertificate = QList<QByteArray> { QByteArray("\x30\x03\x02\x01\x01", 5) };
        exchange.setCertificates(change, receipt);
        break;
    }
    }
}

void quiet(QtMsgType type, const QMessageLogContext &, const QString &message)
{
    if (type == QtFatalMsg) {
        fprintf(stderr, "%s\n", qPrintable(message));
        abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static QCoreApplication app(*argc, *argv);
    qInstallMessageHandler(quiet); // warnings about made-up answers are expected; fatal ones abort
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return -1;
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    QList<Answer> answers;
    for (const QByteArrayView part : QByteArray::fromRawData(input.data() + 1, input.size() - 1).split('\0'))
        answers.append(parseAnswer(part));

    FuzzNetwork network(std::move(answers));
    TenantHttp http(fuzzSettings());
    http.setNetworkAccessManager(&network);
    GraphClient graph(&http);
    ExchangeClient exchange(&http);
    QEventLoop loop;
    int finished = 0;
    run(uint8_t(data[0] - uint8_t('0')) % 11, graph, exchange, [&finished, &loop] {
        ++finished;
        loop.quit();
    });
    if (finished == 0)
        loop.exec();
    check(finished == 1, "an operation that finished more than once");
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    reportLiveHeap();
    return 0;
}
