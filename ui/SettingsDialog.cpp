#include "ui/SettingsDialog.h"

#include "config/ConnectionTest.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace certsync::ui {

using directory::BindMethod;
using directory::SourceKind;

namespace {

// Every widget gets an object name (tests find it) and an accessible name (screen readers say it).
template<typename W> W *named(W *widget, const QString &objectName, const QString &accessibleName)
{
    widget->setObjectName(objectName);
    widget->setAccessibleName(accessibleName);
    return widget;
}

QLineEdit *lineEdit(QWidget *parent, const QString &objectName, const QString &accessibleName,
                    bool password = false)
{
    auto *edit = named(new QLineEdit(parent), objectName, accessibleName);
    if (password) {
        edit->setEchoMode(QLineEdit::Password);
        edit->setPlaceholderText(SettingsDialog::tr("kept in the OS keychain"));
    }
    return edit;
}

QSpinBox *spinBox(QWidget *parent, const QString &objectName, const QString &accessibleName, int min, int max,
                  const QString &suffix = {})
{
    auto *spin = named(new QSpinBox(parent), objectName, accessibleName);
    spin->setRange(min, max);
    spin->setSuffix(suffix);
    return spin;
}

QPlainTextEdit *pathList(QWidget *parent, const QString &objectName, const QString &accessibleName)
{
    auto *edit = named(new QPlainTextEdit(parent), objectName, accessibleName);
    edit->setPlaceholderText(SettingsDialog::tr("one file per line"));
    edit->setTabChangesFocus(true);
    edit->setMaximumHeight(edit->fontMetrics().lineSpacing() * 4 + 12);
    return edit;
}

QStringList lines(const QPlainTextEdit *edit)
{
    QStringList out;
    for (const QString &line : edit->toPlainText().split(QLatin1Char('\n')))
        if (!line.trimmed().isEmpty())
            out.append(line.trimmed());
    return out;
}

QLabel *explanation(const QString &text, QWidget *parent)
{
    auto *label = new QLabel(text, parent);
    label->setWordWrap(true);
    label->setForegroundRole(QPalette::PlaceholderText);
    return label;
}

} // namespace

SettingsDialog::SettingsDialog(const config::Configuration &configuration, QWidget *parent)
    : QDialog(parent)
    , m_base(configuration)
    , m_tabs(named(new QTabWidget(this), QStringLiteral("settingsTabs"), tr("Settings sections")))
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Settings"));
    m_tabs->addTab(buildDirectoryTab(), tr("&Directory"));
    m_tabs->addTab(buildTrustTab(), tr("S/MIME &trust"));
    m_tabs->addTab(buildTenantTab(), tr("&Tenant"));
    m_tabs->addTab(buildPolicyTab(), tr("&Policy"));

    m_notice = named(new QLabel(this), QStringLiteral("settingsNotice"), tr("Notice"));
    m_notice->setWordWrap(true);
    m_notice->hide();
    m_buttons = named(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this),
                      QStringLiteral("settingsButtons"), tr("Dialog buttons"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_notice);
    layout->addWidget(m_buttons);

    load(configuration);
    updateEnabled();
    resize(820, 720);
}

SettingsDialog::~SettingsDialog()
{
    m_runner.cancelAll();
}

QLineEdit *SettingsDialog::fileField(const QString &name, const QString &accessibleName, QWidget **row)
{
    *row = new QWidget(this);
    auto *edit = lineEdit(*row, name, accessibleName);
    auto *browse =
        named(new QToolButton(*row), name + QStringLiteral("Browse"), tr("Choose %1").arg(accessibleName));
    browse->setText(tr("…"));
    connect(browse, &QToolButton::clicked, this, [this, edit, accessibleName] {
        const QString path = QFileDialog::getOpenFileName(this, accessibleName, edit->text());
        if (!path.isEmpty())
            edit->setText(path);
    });
    auto *h = new QHBoxLayout(*row);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(edit, 1);
    h->addWidget(browse);
    return edit;
}

QWidget *SettingsDialog::buildDirectoryTab()
{
    auto *page = new QWidget;
    page->setObjectName(QStringLiteral("directoryTab"));
    auto *form = new QFormLayout;
    m_kind = named(new QComboBox(page), QStringLiteral("directoryKind"), tr("Directory kind"));
    m_kind->addItem(tr("Active Directory"), QStringLiteral("ad"));
    m_kind->addItem(tr("OpenLDAP (generic LDAP)"), QStringLiteral("ldap"));
    form->addRow(tr("&Kind:"), m_kind);
    m_url = lineEdit(page, QStringLiteral("directoryUrl"), tr("Directory URL"));
    m_url->setPlaceholderText(tr("ldaps://dc1.example.com or ldap://dc1.example.com (StartTLS)"));
    form->addRow(tr("&URL:"), m_url);
    m_startTls = named(
        new QCheckBox(tr("Use StartTLS on ldap:// URLs (turn off only for a loopback test server)"), page),
        QStringLiteral("directoryStartTls"), tr("Use StartTLS"));
    form->addRow(QString(), m_startTls);
    m_baseDn = lineEdit(page, QStringLiteral("directoryBaseDn"), tr("Base DN"));
    m_baseDn->setPlaceholderText(tr("DC=example,DC=com"));
    form->addRow(tr("&Base DN:"), m_baseDn);
    m_filter = lineEdit(page, QStringLiteral("directoryFilter"), tr("Search filter"));
    form->addRow(tr("&Filter:"), m_filter);
    m_bind = named(new QComboBox(page), QStringLiteral("directoryBind"), tr("Bind method"));
    m_bind->addItem(tr("Simple bind (DN or UPN and password, over TLS)"), QStringLiteral("simple"));
    m_bind->addItem(tr("Kerberos (SASL GSSAPI, the current ticket)"), QStringLiteral("gssapi"));
    m_bind->addItem(tr("Anonymous"), QStringLiteral("anonymous"));
    form->addRow(tr("B&ind:"), m_bind);
    m_bindDn = lineEdit(page, QStringLiteral("directoryBindDn"), tr("Bind DN or UPN"));
    form->addRow(tr("Bind &DN or UPN:"), m_bindDn);
    m_password = lineEdit(page, QStringLiteral("directoryPassword"), tr("Bind password"), true);
    form->addRow(tr("&Password:"), m_password);
    QWidget *caRow = nullptr;
    m_caFile = fileField(QStringLiteral("directoryCaFile"), tr("LDAP server CA file"), &caRow);
    form->addRow(tr("Server &CA file:"), caRow);
    m_pin = lineEdit(page, QStringLiteral("directoryServerSha256"),
                     tr("Trust this server certificate (SHA-256)"));
    m_pin->setPlaceholderText(tr("SHA-256 of the server certificate, hex (colons allowed)"));
    form->addRow(tr("&Trust this server certificate:"), m_pin);
    form->addRow(QString(),
                 explanation(tr("For a server whose certificate no CA file vouches for: certsync then trusts "
                                "exactly the certificate with this SHA-256 fingerprint, and no other. \"Test "
                                "connection\" shows the fingerprint a server presents; compare it with the "
                                "server's own before pasting it here. TLS verification is never turned off."),
                             page));
    m_connectTimeout =
        spinBox(page, QStringLiteral("directoryConnectTimeout"), tr("Connect timeout"), 1, 600, tr(" s"));
    form->addRow(tr("C&onnect timeout:"), m_connectTimeout);
    m_operationTimeout = spinBox(page, QStringLiteral("directoryOperationTimeout"), tr("Operation timeout"),
                                 1, 3600, tr(" s"));
    form->addRow(tr("Operation ti&meout:"), m_operationTimeout);
    m_pageSize = spinBox(page, QStringLiteral("directoryPageSize"), tr("Page size"), 1, 100000);
    form->addRow(tr("Pa&ge size:"), m_pageSize);

    auto *mapping = named(new QGroupBox(tr("Attribute mapping"), page), QStringLiteral("directoryMapping"),
                          tr("Attribute mapping"));
    mapping->setCheckable(false);
    auto *mappingForm = new QFormLayout(mapping);
    for (const config::MappingField &f : config::mappingFields()) {
        const QString key = QLatin1String(f.key);
        auto *edit = lineEdit(mapping, QStringLiteral("mapping_") + key, tr("Attribute for %1").arg(key));
        mappingForm->addRow(key + QLatin1Char(':'), edit);
        m_mapping.insert(key, edit);
    }
    connect(m_kind, &QComboBox::currentIndexChanged, this, [this] {
        // A different schema: its default attributes and filter.
        const auto kind = config::sourceKindFromName(m_kind->currentData().toString());
        const directory::AttributeMapping defaults = directory::AttributeMapping::defaults(*kind);
        for (const config::MappingField &f : config::mappingFields())
            m_mapping.value(QLatin1String(f.key))->setText(defaults.*f.field);
        m_filter->setPlaceholderText(directory::ConnectionProfile::defaultFilter(*kind));
    });
    connect(m_bind, &QComboBox::currentIndexChanged, this, &SettingsDialog::updateEnabled);

    m_testDirectory = named(new QPushButton(tr("Test &connection"), page), QStringLiteral("directoryTest"),
                            tr("Test the directory connection"));
    connect(m_testDirectory, &QPushButton::clicked, this, &SettingsDialog::testDirectory);
    m_directoryResult =
        named(new QLabel(page), QStringLiteral("directoryTestResult"), tr("Directory test result"));
    m_directoryResult->setWordWrap(true);
    m_directoryResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Room for three lines: a tab page does not grow for a wrapped label's height-for-width.
    m_directoryResult->setMinimumHeight(m_directoryResult->fontMetrics().lineSpacing() * 3 + 4);
    m_directoryResult->setAlignment(Qt::AlignLeft | Qt::AlignTop);

    auto *inner = new QWidget;
    auto *v = new QVBoxLayout(inner);
    v->addLayout(form);
    v->addWidget(mapping);
    v->addStretch();
    auto *scroll = named(new QScrollArea(page), QStringLiteral("directoryScroll"), tr("Directory settings"));
    scroll->setWidget(inner);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(scroll, 1);
    // The result on its own full-width row: a TLS failure names the certificate and its fingerprint.
    auto *testRow = new QHBoxLayout;
    testRow->addWidget(m_testDirectory);
    testRow->addStretch();
    layout->addLayout(testRow);
    layout->addWidget(m_directoryResult);
    return page;
}

QWidget *SettingsDialog::buildTrustTab()
{
    auto *page = new QWidget;
    page->setObjectName(QStringLiteral("trustTab"));
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(explanation(tr("The certificates that S/MIME chains are verified against, and the CRLs "
                                     "that say which are revoked. PEM or DER files."),
                                  page));
    auto *form = new QFormLayout;
    layout->addLayout(form);
    layout->addStretch();
    m_bundles = pathList(page, QStringLiteral("trustBundles"), tr("Mixed PEM bundles"));
    form->addRow(tr("Mixed &bundles:"), m_bundles);
    m_anchors = pathList(page, QStringLiteral("trustAnchors"), tr("Trust anchors"));
    form->addRow(tr("&Anchors (root CAs):"), m_anchors);
    m_intermediates = pathList(page, QStringLiteral("trustIntermediates"), tr("Intermediate CAs"));
    form->addRow(tr("&Intermediates:"), m_intermediates);
    m_crls = pathList(page, QStringLiteral("trustCrls"), tr("CRL files"));
    form->addRow(tr("&CRLs:"), m_crls);
    m_systemAnchors = named(new QCheckBox(tr("Also trust the system's CA bundle"), page),
                            QStringLiteral("trustSystemAnchors"), tr("Trust the system CA bundle"));
    form->addRow(QString(), m_systemAnchors);
    return page;
}

QWidget *SettingsDialog::buildTenantTab()
{
    auto *page = new QWidget;
    page->setObjectName(QStringLiteral("tenantTab"));
    auto *form = new QFormLayout;
    m_tenantId = lineEdit(page, QStringLiteral("tenantId"), tr("Tenant id"));
    m_tenantId->setPlaceholderText(tr("contoso.onmicrosoft.com or the tenant's GUID"));
    form->addRow(tr("&Tenant id:"), m_tenantId);
    m_clientId = lineEdit(page, QStringLiteral("tenantClientId"), tr("Application (client) id"));
    form->addRow(tr("&Application (client) id:"), m_clientId);
    m_credential = named(new QComboBox(page), QStringLiteral("tenantCredential"), tr("Credential"));
    m_credential->addItem(tr("Certificate (recommended)"), QStringLiteral("certificate"));
    m_credential->addItem(tr("Client secret"), QStringLiteral("secret"));
    form->addRow(tr("&Credential:"), m_credential);
    m_clientSecret = lineEdit(page, QStringLiteral("tenantClientSecret"), tr("Client secret"), true);
    form->addRow(tr("Client &secret:"), m_clientSecret);
    QWidget *certRow = nullptr;
    m_certificateFile =
        fileField(QStringLiteral("tenantCertificateFile"), tr("Certificate file (PEM)"), &certRow);
    form->addRow(tr("Ce&rtificate (PEM):"), certRow);
    QWidget *keyRow = nullptr;
    m_keyFile = fileField(QStringLiteral("tenantKeyFile"), tr("Private key file (PEM)"), &keyRow);
    form->addRow(tr("Private &key (PEM):"), keyRow);
    m_keyPassphrase =
        lineEdit(page, QStringLiteral("tenantKeyPassphrase"), tr("Private key passphrase"), true);
    form->addRow(tr("Key &passphrase:"), m_keyPassphrase);
    m_authorityUrl = lineEdit(page, QStringLiteral("tenantAuthorityUrl"), tr("Authority URL"));
    form->addRow(tr("A&uthority URL:"), m_authorityUrl);
    m_graphUrl = lineEdit(page, QStringLiteral("tenantGraphUrl"), tr("Microsoft Graph URL"));
    form->addRow(tr("&Graph URL:"), m_graphUrl);
    m_exchangeUrl = lineEdit(page, QStringLiteral("tenantExchangeUrl"), tr("Exchange Online admin API URL"));
    form->addRow(tr("E&xchange URL:"), m_exchangeUrl);
    form->addRow(QString(), explanation(tr("{tenant} in a URL is replaced by the tenant id."), page));
    QWidget *caRow = nullptr;
    m_tenantCaFile =
        fileField(QStringLiteral("tenantCaFile"), tr("Extra CA file for the tenant's TLS"), &caRow);
    form->addRow(tr("Extra C&A file:"), caRow);
    connect(m_credential, &QComboBox::currentIndexChanged, this, &SettingsDialog::updateEnabled);

    m_testTenant = named(new QPushButton(tr("Test c&onnection"), page), QStringLiteral("tenantTest"),
                         tr("Test the tenant connection"));
    connect(m_testTenant, &QPushButton::clicked, this, &SettingsDialog::testTenant);
    m_tenantResult = named(new QLabel(page), QStringLiteral("tenantTestResult"), tr("Tenant test result"));
    m_tenantResult->setWordWrap(true);
    m_tenantResult->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Room for three lines: a tab page does not grow for a wrapped label's height-for-width.
    m_tenantResult->setMinimumHeight(m_tenantResult->fontMetrics().lineSpacing() * 3 + 4);
    m_tenantResult->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(form);
    layout->addStretch();
    auto *testRow = new QHBoxLayout;
    testRow->addWidget(m_testTenant);
    testRow->addStretch();
    layout->addLayout(testRow);
    layout->addWidget(m_tenantResult);
    return page;
}

QWidget *SettingsDialog::buildPolicyTab()
{
    auto *page = new QWidget;
    page->setObjectName(QStringLiteral("policyTab"));
    auto *form = new QFormLayout(page);
    m_warningDays =
        spinBox(page, QStringLiteral("policyWarningDays"), tr("Expiry warning window"), 0, 3650, tr(" days"));
    form->addRow(tr("&Warn of expiry within:"), m_warningDays);
    m_dropExpired = named(new QCheckBox(tr("Do not publish expired certificates"), page),
                          QStringLiteral("policyDropExpired"), tr("Drop expired certificates"));
    form->addRow(QString(), m_dropExpired);
    m_dropRevoked =
        named(new QCheckBox(tr("Do not publish revoked certificates (where a CRL says so)"), page),
              QStringLiteral("policyDropRevoked"), tr("Drop revoked certificates"));
    form->addRow(QString(), m_dropRevoked);
    m_smimeOnly =
        named(new QCheckBox(tr("Only certificates suitable for S/MIME (extended and key usage)"), page),
              QStringLiteral("policySmimeOnly"), tr("Only S/MIME suitable certificates"));
    form->addRow(QString(), m_smimeOnly);
    m_maxValues = spinBox(page, QStringLiteral("policyMaxValues"), tr("Values per attribute"), 1, 15);
    form->addRow(tr("&Values per attribute (cap):"), m_maxValues);
    m_certificateUserIds = named(new QComboBox(page), QStringLiteral("policyCertificateUserIds"),
                                 tr("certificateUserIds channel"));
    m_certificateUserIds->addItem(tr("Not managed"), QStringLiteral("none"));
    m_certificateUserIds->addItem(tr("Issuer and serial number"), QStringLiteral("issuer-serial"));
    m_certificateUserIds->addItem(tr("Subject key identifier"), QStringLiteral("ski"));
    m_certificateUserIds->addItem(tr("Both"), QStringLiteral("both"));
    form->addRow(tr("&certificateUserIds:"), m_certificateUserIds);
    m_consistencyGuid =
        named(new QCheckBox(tr("Match users by ms-DS-ConsistencyGuid instead of objectGUID"), page),
              QStringLiteral("policyConsistencyGuid"), tr("Match by ms-DS-ConsistencyGuid"));
    form->addRow(QString(), m_consistencyGuid);
    m_deletionThreshold = spinBox(page, QStringLiteral("policyDeletionThreshold"), tr("Deletion threshold"),
                                  0, 1000000, tr(" values"));
    form->addRow(tr("&Deletion threshold:"), m_deletionThreshold);
    form->addRow(QString(),
                 explanation(tr("A publish that would remove more values than this is refused unless "
                                "overridden explicitly (the override is audited)."),
                             page));
    m_staging = named(new QCheckBox(tr("Staging mode: compute and stage plans, never publish"), page),
                      QStringLiteral("policyStaging"), tr("Staging mode"));
    form->addRow(QString(), m_staging);
    m_stateFolder = named(new QLineEdit(page), QStringLiteral("policyStateFolder"), tr("State folder"));
    m_stateFolder->setPlaceholderText(
        QDir::toNativeSeparators(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)));
    form->addRow(tr("State &folder:"), m_stateFolder);
    form->addRow(QString(),
                 explanation(tr("Where plans, approvals, the audit trail and the run history are kept. "
                                "A team shares one: a folder of the admins' group with the setgid bit "
                                "(install -d -m 2770 -g GROUP FOLDER). Empty: your own."),
                             page));
    return page;
}

void SettingsDialog::load(const config::Configuration &c)
{
    const directory::ConnectionProfile d = c.directory.value_or(directory::ConnectionProfile());
    m_kind->setCurrentIndex(m_kind->findData(directory::sourceKindName(d.kind)));
    m_url->setText(d.url);
    m_startTls->setChecked(d.startTls);
    m_baseDn->setText(d.baseDn);
    m_filter->setText(d.filter);
    m_filter->setPlaceholderText(directory::ConnectionProfile::defaultFilter(d.kind));
    m_bind->setCurrentIndex(m_bind->findData(config::bindMethodName(d.bind)));
    m_bindDn->setText(d.bindDn);
    m_caFile->setText(d.caFile);
    m_pin->setText(d.serverCertificateSha256);
    m_connectTimeout->setValue(d.connectTimeoutMs / 1000);
    m_operationTimeout->setValue(d.operationTimeoutMs / 1000);
    m_pageSize->setValue(d.pageSize);
    for (const config::MappingField &f : config::mappingFields())
        m_mapping.value(QLatin1String(f.key))->setText(d.mapping.*f.field);

    m_bundles->setPlainText(c.trust.bundleFiles.join(QLatin1Char('\n')));
    m_anchors->setPlainText(c.trust.anchorFiles.join(QLatin1Char('\n')));
    m_intermediates->setPlainText(c.trust.intermediateFiles.join(QLatin1Char('\n')));
    m_crls->setPlainText(c.trust.crlFiles.join(QLatin1Char('\n')));
    m_systemAnchors->setChecked(c.trust.useSystemAnchors);

    const tenant::TenantSettings t = c.tenant.value_or(tenant::TenantSettings());
    m_tenantId->setText(t.tenantId);
    m_clientId->setText(t.clientId);
    m_credential->setCurrentIndex(m_credential->findData(c.credential == config::TenantCredential::Certificate
                                                             ? QStringLiteral("certificate")
                                                             : QStringLiteral("secret")));
    m_certificateFile->setText(t.clientCertificateFile);
    m_keyFile->setText(t.clientKeyFile);
    m_authorityUrl->setText(t.authorityUrl);
    m_graphUrl->setText(t.graphUrl);
    m_exchangeUrl->setText(t.exchangeUrl);
    m_tenantCaFile->setText(t.caFile);

    const config::PolicyConfig &p = c.policy;
    m_warningDays->setValue(p.warningDays);
    m_dropExpired->setChecked(p.engine.dropExpired);
    m_dropRevoked->setChecked(p.engine.dropRevoked);
    m_smimeOnly->setChecked(p.engine.requireSmimeSuitable);
    m_maxValues->setValue(p.engine.maxValues);
    m_certificateUserIds->setCurrentIndex(
        m_certificateUserIds->findData(config::certificateUserIdFormsName(p.engine)));
    m_consistencyGuid->setChecked(p.engine.consistencyGuidAnchor);
    m_deletionThreshold->setValue(p.deletionThreshold);
    m_staging->setChecked(p.staging);
    m_stateFolder->setText(p.stateFolder);
}

config::Configuration SettingsDialog::configuration() const
{
    // What the dialog does not show (approvers, four-eyes, plan lifetime, retention, the state folder,
    // tenant retry limits...) stays as it was: saving from the console never turns a guard off or on.
    config::Configuration c = m_base;
    c.directory.reset();
    if (!m_url->text().trimmed().isEmpty()) {
        directory::ConnectionProfile d = m_base.directory.value_or(directory::ConnectionProfile {});
        d.kind = *config::sourceKindFromName(m_kind->currentData().toString());
        d.url = m_url->text().trimmed();
        d.startTls = m_startTls->isChecked();
        d.baseDn = m_baseDn->text().trimmed();
        d.filter = m_filter->text().trimmed();
        d.bind = *config::bindMethodFromName(m_bind->currentData().toString());
        d.bindDn = d.bind == BindMethod::Simple ? m_bindDn->text().trimmed() : QString();
        d.caFile = m_caFile->text().trimmed();
        d.serverCertificateSha256 = m_pin->text().trimmed();
        d.connectTimeoutMs = m_connectTimeout->value() * 1000;
        d.operationTimeoutMs = m_operationTimeout->value() * 1000;
        d.pageSize = m_pageSize->value();
        d.mapping = directory::AttributeMapping::defaults(d.kind);
        for (const config::MappingField &f : config::mappingFields())
            d.mapping.*f.field = m_mapping.value(QLatin1String(f.key))->text().trimmed();
        c.directory = d;
    }
    c.trust.bundleFiles = lines(m_bundles);
    c.trust.anchorFiles = lines(m_anchors);
    c.trust.intermediateFiles = lines(m_intermediates);
    c.trust.crlFiles = lines(m_crls);
    c.trust.useSystemAnchors = m_systemAnchors->isChecked();
    c.tenant.reset();
    if (!m_tenantId->text().trimmed().isEmpty()) {
        tenant::TenantSettings t = m_base.tenant.value_or(tenant::TenantSettings {});
        t.tenantId = m_tenantId->text().trimmed();
        t.clientId = m_clientId->text().trimmed();
        c.credential = m_credential->currentData().toString() == QLatin1String("certificate")
            ? config::TenantCredential::Certificate
            : config::TenantCredential::Secret;
        if (c.credential == config::TenantCredential::Certificate) {
            t.clientCertificateFile = m_certificateFile->text().trimmed();
            t.clientKeyFile = m_keyFile->text().trimmed();
        } else {
            t.clientCertificateFile.clear();
            t.clientKeyFile.clear();
        }
        t.authorityUrl = m_authorityUrl->text().trimmed();
        t.graphUrl = m_graphUrl->text().trimmed();
        t.exchangeUrl = m_exchangeUrl->text().trimmed();
        t.caFile = m_tenantCaFile->text().trimmed();
        c.tenant = t;
    }
    config::PolicyConfig &p = c.policy;
    p.warningDays = m_warningDays->value();
    p.engine.dropExpired = m_dropExpired->isChecked();
    p.engine.dropRevoked = m_dropRevoked->isChecked();
    p.engine.requireSmimeSuitable = m_smimeOnly->isChecked();
    p.engine.maxValues = m_maxValues->value();
    config::setCertificateUserIdForms(p.engine, m_certificateUserIds->currentData().toString());
    p.engine.consistencyGuidAnchor = m_consistencyGuid->isChecked();
    p.deletionThreshold = m_deletionThreshold->value();
    p.staging = m_staging->isChecked();
    p.stateFolder = m_stateFolder->text().trimmed();
    return c;
}

config::Secrets SettingsDialog::secrets() const
{
    return config::Secrets { m_password->text(), m_clientSecret->text(), m_keyPassphrase->text() };
}

void SettingsDialog::setSecrets(const config::Secrets &secrets)
{
    m_password->setText(secrets.bindPassword);
    m_clientSecret->setText(secrets.clientSecret);
    m_keyPassphrase->setText(secrets.keyPassphrase);
}

void SettingsDialog::setNotice(const QString &text)
{
    m_notice->setText(text);
    m_notice->setVisible(!text.isEmpty());
}

void SettingsDialog::updateEnabled()
{
    const bool simple = m_bind->currentData().toString() == QLatin1String("simple");
    m_bindDn->setEnabled(simple);
    m_password->setEnabled(simple);
    const bool certificate = m_credential->currentData().toString() == QLatin1String("certificate");
    m_clientSecret->setEnabled(!certificate);
    m_certificateFile->parentWidget()->setEnabled(certificate); // with its browse button
    m_keyFile->parentWidget()->setEnabled(certificate);
    m_keyPassphrase->setEnabled(certificate);
}

void SettingsDialog::showResult(QLabel *label, bool ok, const QString &text)
{
    // Words first, colour second: the result reads the same without colour.
    label->setText((ok ? tr("Success: %1") : tr("Failed: %1")).arg(text));
    QPalette palette = label->palette();
    palette.setColor(QPalette::WindowText, ok ? QColor(0x1b, 0x7f, 0x3b) : QColor(0xc0, 0x1c, 0x28));
    label->setPalette(palette);
}

void SettingsDialog::testDirectory()
{
    const config::Configuration c = configuration();
    if (!c.directory) {
        showResult(m_directoryResult, false, tr("enter the directory's URL first."));
        emit directoryTested(false, m_directoryResult->text());
        return;
    }
    m_testDirectory->setEnabled(false);
    m_directoryResult->setText(tr("Connecting to %1…").arg(c.directory->url));
    auto *job = new config::DirectoryTestJob(*c.directory, m_password->text());
    connect(job, &jobs::Job::finished, this, [this](bool ok, const QString &text) {
        m_testDirectory->setEnabled(true);
        showResult(m_directoryResult, ok, text);
        emit directoryTested(ok, text);
    });
    m_runner.run(job);
}

void SettingsDialog::testTenant()
{
    const config::Configuration c = configuration();
    const auto tenant = config::tenantSettings(c, secrets());
    if (!tenant) {
        showResult(m_tenantResult, false, tr("enter the tenant id first."));
        emit tenantTested(false, m_tenantResult->text());
        return;
    }
    m_testTenant->setEnabled(false);
    m_tenantResult->setText(tr("Asking %1 for a token…").arg(tenant->tokenUrl().toString()));
    auto *job = new config::TenantTestJob(*tenant);
    connect(job, &jobs::Job::finished, this, [this](bool ok, const QString &text) {
        m_testTenant->setEnabled(true);
        showResult(m_tenantResult, ok, text);
        emit tenantTested(ok, text);
    });
    m_runner.run(job);
}

} // namespace certsync::ui
