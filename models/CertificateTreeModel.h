#pragma once

#include "certs/ValueAnalyzer.h"

#include <QAbstractItemModel>
#include <QSet>

#include <vector>

namespace certsync::models {

// One side of the helpdesk view: attribute -> value (x509 / pkcs7 / invalid) -> chain of the user's
// certificate, leaf to root, each with its status. The same model shows "In the directory" and
// "Published in Microsoft 365"; given the other side's fingerprints it marks what only this side has.
class CertificateTreeModel : public QAbstractItemModel
{
    Q_OBJECT
public:
    enum Column { NameColumn, StatusColumn, ExpiresColumn, FingerprintColumn, ColumnCount };
    enum class NodeType { Attribute, Value, ChainElement };
    enum Role {
        NodeTypeRole = Qt::UserRole + 1,
        StatusRole, // certs::Status as int (values and chain elements)
        Sha256Role, // raw SHA-256 of the certificate (values: the user's certificate)
        OnlyHereRole, // bool: the other side has no such certificate
    };

    explicit CertificateTreeModel(QObject *parent = nullptr);

    void setValues(const QList<certs::AnalyzedValue> &values);
    // Fingerprints (raw SHA-256) of the user's certificates on the other side; empty: no comparison.
    void setCounterpart(const QSet<QByteArray> &sha256s, bool compare = true);
    void clear();

    [[nodiscard]] NodeType nodeType(const QModelIndex &index) const;
    // The value behind a value node or a chain element (nullptr for attribute nodes).
    [[nodiscard]] const certs::AnalyzedValue *valueAt(const QModelIndex &index) const;
    // The certificate a value node or its chain's leaf stands for (the user's certificate).
    [[nodiscard]] const certs::JudgedCertificate *certificateAt(const QModelIndex &index) const;
    [[nodiscard]] const certs::ChainElement *chainElementAt(const QModelIndex &index) const;
    [[nodiscard]] int onlyHereCount() const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Node
    {
        NodeType type;
        int parent; // node index, -1 for attributes
        int row; // row under its parent
        int attribute; // 0 userCertificate, 1 userSMIMECertificate
        int value = -1; // index into m_values
        int element = -1; // chain element index
        std::vector<int> children;
    };
    void rebuild();
    [[nodiscard]] const Node *node(const QModelIndex &index) const;
    [[nodiscard]] bool onlyHere(const certs::AnalyzedValue &value) const;
    [[nodiscard]] certs::Status valueStatus(const certs::AnalyzedValue &value) const;

    QList<certs::AnalyzedValue> m_values;
    std::vector<Node> m_nodes;
    std::vector<int> m_roots;
    QSet<QByteArray> m_counterpart;
    bool m_compare = false;
};

} // namespace certsync::models
