#pragma once

#include "certs/Certificate.h"

#include <QDialog>

#include <optional>

class QLabel;
class QLineEdit;
class QSortFilterProxyModel;
class QStandardItemModel;
class QTableView;

namespace certsync::ui {

// Exchange Online's S/MIME CA collection (Get-SmimeConfig's SMIMECertificateIssuingCA, decoded): the
// CAs Outlook on the web and Exchange Online validate S/MIME certificates against. A table that sorts
// and filters: subject, issuer, SHA-256, valid until.
class SmimeCollectionDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SmimeCollectionDialog(QWidget *parent = nullptr);

    // nullopt: not read (yet); `problem`: why not.
    void setCollection(const std::optional<QList<certs::Certificate>> &collection,
                       const QString &problem = {});
    [[nodiscard]] QTableView *table() const { return m_table; }

private:
    QLabel *m_summary;
    QLineEdit *m_filter;
    QStandardItemModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QTableView *m_table;
};

} // namespace certsync::ui
