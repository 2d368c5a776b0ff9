#pragma once

#include "config/Configuration.h"
#include "jobs/Job.h"

#include <QDialog>
#include <QHash>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;

namespace certsync::ui {

// Settings: the directory profile, the S/MIME trust, the tenant profile and the policy. Secrets are
// typed into password fields and handed to the caller, which keeps them in the OS keychain; they
// are never part of configuration(). "Test connection" runs as a job on the dialog's own worker.
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SettingsDialog(const config::Configuration &configuration, QWidget *parent = nullptr);
    ~SettingsDialog() override;

    // What the widgets say; directory/tenant are nullopt when their URL/tenant id is empty.
    [[nodiscard]] config::Configuration configuration() const;
    [[nodiscard]] config::Secrets secrets() const;
    void setSecrets(const config::Secrets &secrets); // fills the password fields
    // Shown under the buttons, e.g. where no keychain is available.
    void setNotice(const QString &text);

    void testDirectory();
    void testTenant();

signals:
    void directoryTested(bool ok, const QString &text);
    void tenantTested(bool ok, const QString &text);

private:
    QWidget *buildDirectoryTab();
    QWidget *buildTrustTab();
    QWidget *buildTenantTab();
    QWidget *buildPolicyTab();
    void load(const config::Configuration &configuration);
    void updateEnabled();
    void showResult(QLabel *label, bool ok, const QString &text);
    QLineEdit *fileField(const QString &name, const QString &accessibleName, QWidget **row);

    jobs::JobRunner m_runner;
    const config::Configuration m_base; // what the dialog opened with
    QTabWidget *m_tabs;
    // directory
    QComboBox *m_kind;
    QLineEdit *m_url;
    QCheckBox *m_startTls;
    QLineEdit *m_baseDn;
    QLineEdit *m_filter;
    QComboBox *m_bind;
    QLineEdit *m_bindDn;
    QLineEdit *m_password;
    QLineEdit *m_caFile;
    QLineEdit *m_pin;
    QSpinBox *m_connectTimeout;
    QSpinBox *m_operationTimeout;
    QSpinBox *m_pageSize;
    QHash<QString, QLineEdit *> m_mapping; // by the mapping field's key
    QPushButton *m_testDirectory;
    QLabel *m_directoryResult;
    // trust
    QPlainTextEdit *m_bundles;
    QPlainTextEdit *m_anchors;
    QPlainTextEdit *m_intermediates;
    QPlainTextEdit *m_crls;
    QCheckBox *m_systemAnchors;
    // tenant
    QLineEdit *m_tenantId;
    QLineEdit *m_clientId;
    QComboBox *m_credential;
    QLineEdit *m_clientSecret;
    QLineEdit *m_certificateFile;
    QLineEdit *m_keyFile;
    QLineEdit *m_keyPassphrase;
    QLineEdit *m_authorityUrl;
    QLineEdit *m_graphUrl;
    QLineEdit *m_exchangeUrl;
    QLineEdit *m_tenantCaFile;
    QPushButton *m_testTenant;
    QLabel *m_tenantResult;
    // policy
    QSpinBox *m_warningDays;
    QCheckBox *m_dropExpired;
    QCheckBox *m_dropRevoked;
    QCheckBox *m_smimeOnly;
    QSpinBox *m_maxValues;
    QComboBox *m_certificateUserIds;
    QCheckBox *m_consistencyGuid;
    QSpinBox *m_deletionThreshold;
    QCheckBox *m_staging;
    QLineEdit *m_stateFolder;
    QLabel *m_notice;
    QDialogButtonBox *m_buttons;
};

} // namespace certsync::ui
