#pragma once

// Items read on one thread (a database cursor belongs to the thread that opened it), transformed in
// batches on a pool of their own (both cores), a few batches ahead of the reader, and handed back on
// the reading thread in the order they were read. What StoredDirectory's passes over the stored
// users and their summaries share.
//
//   OrderedBatches<QByteArray, UserSummary> batches(2000, 4, decodeBatch, visit);
//   while (cursor.next() && batches.add(bytes)) {}
//   batches.finish();
//
// `transform` gets a batch and the position of its first item in the read order, and returns the
// results (same number or not) or nullopt when the batch is damaged; `visit` takes each result and
// returns false to stop. Destroying the object waits for batches still running (they may use what
// `transform` refers to).

#include <QFuture>
#include <QList>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrentRun>

#include <deque>
#include <functional>
#include <optional>
#include <utility>

namespace certsync {

template<typename In, typename Out> class OrderedBatches
{
public:
    using Transform = std::function<std::optional<QList<Out>>(QList<In>, qint64 first)>;
    using Visit = std::function<bool(Out &&)>;

    OrderedBatches(qsizetype batchSize, size_t batchesAhead, Transform transform, Visit visit)
        : m_batchSize(batchSize)
        , m_batchesAhead(batchesAhead)
        , m_transform(std::move(transform))
        , m_visit(std::move(visit))
    {
        m_pool.setMaxThreadCount(qMax(1, QThread::idealThreadCount()));
    }
    ~OrderedBatches() { m_pool.waitForDone(); }
    OrderedBatches(const OrderedBatches &) = delete;
    OrderedBatches &operator=(const OrderedBatches &) = delete;

    // Takes one read item; false once `visit` stopped or a batch was damaged (read no further).
    bool add(In &&item)
    {
        m_batch.append(std::move(item));
        if (m_batch.size() >= m_batchSize)
            submit();
        return running();
    }
    // The last batch submitted and every result delivered (unless stopped or damaged).
    void finish()
    {
        if (!running())
            return;
        submit();
        deliver(true);
    }
    [[nodiscard]] bool stopped() const { return m_stopped; }
    [[nodiscard]] bool damaged() const { return m_damaged; }
    [[nodiscard]] qint64 visited() const { return m_visited; }

private:
    [[nodiscard]] bool running() const { return !m_stopped && !m_damaged; }

    void submit()
    {
        if (m_batch.isEmpty())
            return;
        const qint64 first = std::exchange(m_submitted, m_submitted + m_batch.size());
        m_inFlight.push_back(QtConcurrent::run(&m_pool, m_transform, std::exchange(m_batch, {}), first));
        deliver(false);
        while (running() && m_inFlight.size() > m_batchesAhead) {
            m_inFlight.front().waitForFinished();
            deliver(false);
        }
    }

    void deliver(bool wait)
    {
        while (running() && !m_inFlight.empty() && (wait || m_inFlight.front().isFinished())) {
            std::optional<QList<Out>> results = m_inFlight.front().takeResult();
            m_inFlight.pop_front();
            if (!results) {
                m_damaged = true;
                return;
            }
            for (Out &result : *results) {
                if (!m_visit(std::move(result))) {
                    m_stopped = true;
                    return;
                }
                ++m_visited;
            }
        }
    }

    const qsizetype m_batchSize;
    const size_t m_batchesAhead;
    const Transform m_transform;
    const Visit m_visit;
    QThreadPool m_pool; // waited for by the destructor, before any member goes
    std::deque<QFuture<std::optional<QList<Out>>>> m_inFlight;
    QList<In> m_batch;
    qint64 m_submitted = 0;
    qint64 m_visited = 0;
    bool m_stopped = false;
    bool m_damaged = false;
};

} // namespace certsync
