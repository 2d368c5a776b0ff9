#pragma once

// The persistent configuration that the console's settings dialog edits and every command reads:
// where the directory is, what S/MIME trust applies, which tenant to talk to, and the policy.
// It holds no secret: passwords, client secrets and key passphrases live in the OS keychain
// (SecretStore) or, for the command line, in environment variables.

#include "certs/TrustStore.h"
#include "core/Result.h"
#include "directory/ConnectionProfile.h"
#include "directory/DirectoryReadJob.h"
#include "engine/Approval.h"
#include "engine/Diff.h"
#include "tenant/TenantSettings.h"

#include <QString>

#include <optional>

class QSettings;

namespace certsync::config {

// The settings file's layout version, written as `version`. A file written by a newer certsync is
// refused instead of being half understood.
constexpr int settingsVersion = 1;

struct PolicyConfig
{
    engine::PolicySettings engine;
    int warningDays = 30; // the judge's expiring_soon window
    int deletionThreshold = 500; // removed values per publish, Entra Connect's default
    bool staging = false; // compute and stage, never publish
    // A plan older than this is published only after every item's directory values are read again.
    int planLifetimeHours = 24;
    int runRetentionDays = 90; // the run history's (RunHistory) kept days
    // Four-eyes: a plan's author cannot approve its items nor publish it. A single-admin shop turns
    // it off here (approval/requireSecondPerson=false); every approval made while off says so.
    bool requireSecondPerson = true;
    // Who may approve or reject (approval/approvers): account names, and groups as "%group"; empty:
    // any account. Anyone can read.
    QStringList approvers;
    // The folder of the state database (state/folder), for the console and every command without
    // --state-dir: a team points it at its shared setgid folder. Empty: the account's own data folder.
    QString stateFolder;
};

enum class TenantCredential { Secret, Certificate };

struct Configuration
{
    std::optional<directory::ConnectionProfile> directory; // nullopt: no directory configured
    certs::TrustSettings trust; // S/MIME anchors, intermediates and CRLs
    // nullopt: no tenant configured. Its secret fields are always empty here.
    std::optional<tenant::TenantSettings> tenant;
    TenantCredential credential = TenantCredential::Secret;
    PolicyConfig policy;
};

// The state database's path: the --state-dir option when given, else the settings' state/folder,
// else the account's data folder (QStandardPaths::AppDataLocation).
QString statePath(const Configuration &configuration, const QString &stateDirOption = {});

// The approval rules the settings ask for (four-eyes, approvers).
engine::ApprovalPolicy approvalPolicy(const Configuration &configuration);

// The settings the guards depend on, as PlanStore::recordSettings() keeps them in the audit trail:
// four-eyes, approvers, staging, the deletion threshold, and the trust (a digest of the configured
// anchor, intermediate, bundle and CRL files' contents).
// withTrust false: without the trust digest, for a command or console that loads no trust (approve,
// reject; a console with no directory), so that its settings do not record a trust change.
QList<QPair<QString, QString>> guardSettings(const Configuration &configuration, bool withTrust = true);

// No credential in the clear: plain LDAP (no StartTLS, not ldaps://) only to a loopback host or with
// a Kerberos bind (its SASL layer encrypts: LdapConnection asks for SSF 56), and http:// tenant
// URLs (authority, Graph, Exchange) only to a loopback host. The error (code "usage") says what to
// use instead. Checked when the settings and options are read, before anything connects.
Result<void> checkTransport(const Configuration &configuration);
bool isLoopbackHost(const QString &host); // 127.0.0.0/8, ::1, "localhost"

// The secrets that go with a configuration, from the keychain or the environment. Memory only.
struct Secrets
{
    QString bindPassword;
    QString clientSecret;
    QString keyPassphrase;
};

// What a directory read needs: the profile, the password, the judge's policy and the loaded S/MIME
// trust store. nullopt when no directory is configured; an error when a trust file cannot be read.
Result<std::optional<directory::DirectoryReadSettings>>
directoryReadSettings(const Configuration &configuration, const QString &bindPassword,
                      const certs::TrustStore::LoadProgress &progress = {});
// The tenant with the secret that its credential needs; nullopt when no tenant is configured.
std::optional<tenant::TenantSettings> tenantSettings(const Configuration &configuration,
                                                     const Secrets &secrets);

// The settings file: CERTSYNC_CONFIG when set, else certsync/certsync.conf in the user's
// configuration folder (~/.config). INI format.
QString defaultSettingsPath();

// Reads the configuration. Keys that are absent keep their defaults; values that cannot be
// understood are an error naming the key.
Result<Configuration> load(const QSettings &settings);
Result<Configuration> loadFile(const QString &path); // a missing file is an empty configuration
// Writes every key (removing those of a section that is not configured). Never writes a secret.
void save(const Configuration &configuration, QSettings &settings);
Result<void> saveFile(const Configuration &configuration, const QString &path);

// The attribute mapping's fields and their keys under directory/mapping/ (for the dialog too).
struct MappingField
{
    const char *key;
    QString directory::AttributeMapping::*field;
};
const QList<MappingField> &mappingFields();

// "simple", "gssapi", "anonymous" and back (the settings file's words).
QString bindMethodName(directory::BindMethod method);
std::optional<directory::BindMethod> bindMethodFromName(const QString &name);
std::optional<directory::SourceKind> sourceKindFromName(const QString &name); // "ad", "ldap"
// certificateUserIds forms: "none", "issuer-serial", "ski", "both" (the CLI's words too).
QString certificateUserIdFormsName(const engine::PolicySettings &policy);
bool setCertificateUserIdForms(engine::PolicySettings &policy, const QString &name);

} // namespace certsync::config
