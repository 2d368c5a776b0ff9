#include "engine/DiffJob.h"

namespace certsync::engine {

DiffJob::DiffJob(std::shared_ptr<const directory::DirectorySnapshot> directory,
                 std::shared_ptr<const tenant::TenantSnapshot> tenant, PolicySettings settings,
                 QObject *parent)
    : jobs::Job(QStringLiteral("diff"), parent)
    , m_directory(std::move(directory))
    , m_tenant(std::move(tenant))
    , m_settings(std::move(settings))
{
    qRegisterMetaType<std::shared_ptr<const DiffResult>>();
}

void DiffJob::setSmimeCollection(QList<certs::Certificate> collection, QList<certs::Certificate> trustBundle)
{
    m_smimeCollection = std::move(collection);
    m_trustBundle = std::move(trustBundle);
}

void DiffJob::doStart()
{
    // An incomplete read would turn everything it missed into deletions.
    if (!m_directory || !m_directory->complete) {
        finish(false, tr("the directory snapshot is incomplete: no diff is computed from it"));
        return;
    }
    if (!m_tenant) {
        finish(false, tr("no tenant snapshot"));
        return;
    }
    reportProgress(0, 2, tr("hashing published values"));
    const QList<PublishedUser> published = publishedFromTenant(m_tenant->users);
    if (isCanceled()) {
        finish(false, tr("canceled"));
        return;
    }
    reportProgress(1, 2, tr("comparing"));
    DiffInput input;
    input.directory = &m_directory->users;
    input.tenant = &published;
    input.settings = m_settings;
    if (m_smimeCollection) {
        input.smimeCollection = &*m_smimeCollection;
        input.trustBundle = &m_trustBundle;
    }
    auto result = std::make_shared<const DiffResult>(computeDiff(input));
    reportProgress(2, 2);
    const QString summary = tr("%1 items, %2 values removed, %3 added")
                                .arg(result->items.size())
                                .arg(result->removedValues)
                                .arg(result->addedValues);
    emit diffReady(result);
    finish(true, summary);
}

} // namespace certsync::engine
