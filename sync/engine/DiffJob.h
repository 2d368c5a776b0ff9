#pragma once

#include "engine/Diff.h"
#include "jobs/Job.h"

#include <memory>
#include <optional>

namespace certsync::engine {

// Runs the diff on the worker thread: hashes the tenant's published values once, then computeDiff.
// The snapshots are shared, never copied; the result arrives through diffReady() before finished().
class DiffJob : public jobs::Job
{
    Q_OBJECT
public:
    DiffJob(std::shared_ptr<const directory::DirectorySnapshot> directory,
            std::shared_ptr<const tenant::TenantSnapshot> tenant, PolicySettings settings,
            QObject *parent = nullptr);

    // Exchange Online's S/MIME CA collection as read, and the trust bundle's CA certificates: the diff
    // then stages the collection's item (smimeCollectionItem). Not called: no such item.
    void setSmimeCollection(QList<certs::Certificate> collection, QList<certs::Certificate> trustBundle);

signals:
    void diffReady(const std::shared_ptr<const certsync::engine::DiffResult> &result);

protected:
    void doStart() override;

private:
    std::shared_ptr<const directory::DirectorySnapshot> m_directory;
    std::shared_ptr<const tenant::TenantSnapshot> m_tenant;
    PolicySettings m_settings;
    std::optional<QList<certs::Certificate>> m_smimeCollection;
    QList<certs::Certificate> m_trustBundle;
};

} // namespace certsync::engine

Q_DECLARE_METATYPE(std::shared_ptr<const certsync::engine::DiffResult>)
