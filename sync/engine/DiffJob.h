#pragma once

#include "engine/Diff.h"
#include "jobs/Job.h"

#include <memory>

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

signals:
    void diffReady(const std::shared_ptr<const certsync::engine::DiffResult> &result);

protected:
    void doStart() override;

private:
    std::shared_ptr<const directory::DirectorySnapshot> m_directory;
    std::shared_ptr<const tenant::TenantSnapshot> m_tenant;
    PolicySettings m_settings;
};

} // namespace certsync::engine

Q_DECLARE_METATYPE(std::shared_ptr<const certsync::engine::DiffResult>)
