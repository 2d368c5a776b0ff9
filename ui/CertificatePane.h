#pragma once

#include "certs/ValueAnalyzer.h"

#include <QWidget>

#include <optional>

class QLabel;
class QPushButton;
class QTextBrowser;
class QTreeView;

namespace certsync::models {
class CertificateTreeModel;
}

namespace certsync::ui {

class VerdictPanel;

// The helpdesk view of one user: "In the directory" beside "Published in Microsoft 365", each an
// attribute -> value -> chain tree, differences marked, and every field of the selected certificate;
// above them the verdict (VerdictPanel).
class CertificatePane : public QWidget
{
    Q_OBJECT
public:
    explicit CertificatePane(QWidget *parent = nullptr);

    // `published` is std::nullopt while the tenant has not been read (or the user is unmatched).
    void showUser(const QString &title, const QList<certs::AnalyzedValue> &directory,
                  const std::optional<QList<certs::AnalyzedValue>> &published,
                  const QString &tenantNote = {});
    void clear();

    [[nodiscard]] VerdictPanel *verdictPanel() const { return m_verdict; }
    [[nodiscard]] QTreeView *directoryTree() const { return m_directoryTree; }
    [[nodiscard]] QTreeView *tenantTree() const { return m_tenantTree; }
    [[nodiscard]] QTextBrowser *details() const { return m_details; }
    [[nodiscard]] const certs::Certificate *selectedCertificate() const
    {
        return m_selected ? &*m_selected : nullptr;
    }

private:
    void select(const certs::Certificate *certificate, const certs::ProblemSet &problems,
                const certs::ChainResult *chain);
    void copyFingerprint();
    void saveCertificate();

    models::CertificateTreeModel *m_directoryModel;
    models::CertificateTreeModel *m_tenantModel;
    QLabel *m_title;
    VerdictPanel *m_verdict;
    QLabel *m_warning;
    QLabel *m_tenantNote;
    QTreeView *m_directoryTree;
    QTreeView *m_tenantTree;
    QTextBrowser *m_details;
    QPushButton *m_copy;
    QPushButton *m_save;
    std::optional<certs::Certificate> m_selected;
};

} // namespace certsync::ui
