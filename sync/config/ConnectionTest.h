#pragma once

// "Test connection" for the settings dialog: a bind plus one read of the base DN for the directory,
// a token plus one Graph request for the tenant. Jobs on the worker thread, like every read.

#include "directory/ConnectionProfile.h"
#include "jobs/Job.h"
#include "tenant/TenantSettings.h"

namespace certsync::tenant {
class TenantHttp;
}

namespace certsync::config {

// Binds as the profile says and reads the base DN entry. finished(true, what was reached) or
// finished(false, the directory's error: unreachable, TLS with the server certificate's subject
// and fingerprint, wrong credentials, no such base DN...).
class DirectoryTestJob : public jobs::Job
{
    Q_OBJECT
public:
    DirectoryTestJob(directory::ConnectionProfile profile, QString password, QObject *parent = nullptr);

protected:
    void doStart() override;

private:
    directory::ConnectionProfile m_profile;
    QString m_password;
};

// Gets a Graph token and sends GET {graph}/users?$top=1&$select=id.
class TenantTestJob : public jobs::Job
{
    Q_OBJECT
public:
    explicit TenantTestJob(tenant::TenantSettings settings, QObject *parent = nullptr);
    ~TenantTestJob() override;

protected:
    void doStart() override;
    void doCancel() override;

private:
    tenant::TenantSettings m_settings;
    tenant::TenantHttp *m_http = nullptr; // created on the worker thread
};

} // namespace certsync::config
