#include "models/CertificateTreeModel.h"

#include "models/StatusPresentation.h"

#include <QFont>
#include <QLocale>

namespace certsync::models {

using namespace certs;

CertificateTreeModel::CertificateTreeModel(QObject *parent)
    : QAbstractItemModel(parent)
{ }

void CertificateTreeModel::setValues(const QList<AnalyzedValue> &values)
{
    beginResetModel();
    m_values = values;
    rebuild();
    endResetModel();
}

void CertificateTreeModel::setCounterpart(const QSet<QByteArray> &sha256s, bool compare)
{
    m_counterpart = sha256s;
    m_compare = compare;
    // Only value rows change; dataChanged is per parent.
    for (int root : m_roots)
        if (!m_nodes[size_t(root)].children.empty())
            emit dataChanged(createIndex(0, 0, quintptr(m_nodes[size_t(root)].children.front())),
                             createIndex(int(m_nodes[size_t(root)].children.size()) - 1, ColumnCount - 1,
                                         quintptr(m_nodes[size_t(root)].children.back())));
}

void CertificateTreeModel::clear()
{
    setValues({});
}

void CertificateTreeModel::rebuild()
{
    m_nodes.clear();
    m_roots.clear();
    for (int attribute = 0; attribute < 2; ++attribute) {
        const int attributeNode = int(m_nodes.size());
        m_nodes.push_back(Node { NodeType::Attribute, -1, int(m_roots.size()), attribute, -1, -1, {} });
        m_roots.push_back(attributeNode);
        for (int v = 0; v < m_values.size(); ++v) {
            if (int(m_values.at(v).attribute) != attribute)
                continue;
            const int valueNode = int(m_nodes.size());
            m_nodes.push_back(Node { NodeType::Value,
                                     attributeNode,
                                     int(m_nodes[size_t(attributeNode)].children.size()),
                                     attribute,
                                     v,
                                     -1,
                                     {} });
            m_nodes[size_t(attributeNode)].children.push_back(valueNode);
            const JudgedCertificate *users = m_values.at(v).usersCertificate();
            if (!users)
                continue;
            for (int e = 0; e < users->chain.chain.size(); ++e) {
                const int elementNode = int(m_nodes.size());
                m_nodes.push_back(Node { NodeType::ChainElement, valueNode, e, attribute, v, e, {} });
                m_nodes[size_t(valueNode)].children.push_back(elementNode);
            }
        }
    }
}

const CertificateTreeModel::Node *CertificateTreeModel::node(const QModelIndex &index) const
{
    if (!index.isValid() || index.internalId() >= m_nodes.size())
        return nullptr;
    return &m_nodes[size_t(index.internalId())];
}

CertificateTreeModel::NodeType CertificateTreeModel::nodeType(const QModelIndex &index) const
{
    const Node *n = node(index);
    return n ? n->type : NodeType::Attribute;
}

const AnalyzedValue *CertificateTreeModel::valueAt(const QModelIndex &index) const
{
    const Node *n = node(index);
    return n && n->value >= 0 ? &m_values.at(n->value) : nullptr;
}

const JudgedCertificate *CertificateTreeModel::certificateAt(const QModelIndex &index) const
{
    const AnalyzedValue *value = valueAt(index);
    return value ? value->usersCertificate() : nullptr;
}

const ChainElement *CertificateTreeModel::chainElementAt(const QModelIndex &index) const
{
    const Node *n = node(index);
    if (!n || n->type != NodeType::ChainElement)
        return nullptr;
    const JudgedCertificate *cert = certificateAt(index);
    return cert ? &cert->chain.chain.at(n->element) : nullptr;
}

bool CertificateTreeModel::onlyHere(const AnalyzedValue &value) const
{
    if (!m_compare)
        return false;
    const JudgedCertificate *users = value.usersCertificate();
    return users && !m_counterpart.contains(users->certificate.sha256);
}

int CertificateTreeModel::onlyHereCount() const
{
    return int(std::count_if(m_values.cbegin(), m_values.cend(),
                             [this](const AnalyzedValue &v) { return onlyHere(v); }));
}

Status CertificateTreeModel::valueStatus(const AnalyzedValue &value) const
{
    Status status = value.valueProblems.status();
    for (int i = 0; i < value.certificates.size(); ++i)
        if (value.certificates.at(i).isUsers)
            status = std::max(status, value.problemsOf(i).status());
    return status;
}

QModelIndex CertificateTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid())
        return row < int(m_roots.size()) ? createIndex(row, column, quintptr(m_roots[size_t(row)]))
                                         : QModelIndex();
    const Node *p = node(parent);
    if (!p || row >= int(p->children.size()) || parent.column() != 0)
        return {};
    return createIndex(row, column, quintptr(p->children[size_t(row)]));
}

QModelIndex CertificateTreeModel::parent(const QModelIndex &child) const
{
    const Node *n = node(child);
    if (!n || n->parent < 0)
        return {};
    return createIndex(m_nodes[size_t(n->parent)].row, 0, quintptr(n->parent));
}

int CertificateTreeModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_roots.size());
    if (parent.column() != 0)
        return 0;
    const Node *n = node(parent);
    return n ? int(n->children.size()) : 0;
}

int CertificateTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant CertificateTreeModel::data(const QModelIndex &index, int role) const
{
    const Node *n = node(index);
    if (!n)
        return {};
    const int column = index.column();
    if (role == NodeTypeRole)
        return int(n->type);

    if (n->type == NodeType::Attribute) {
        if (role == Qt::DisplayRole && column == NameColumn) {
            const QString name = attributeName(Attribute(n->attribute));
            const int count = int(n->children.size());
            return count == 1 ? tr("%1 (1 value)").arg(name) : tr("%1 (%2 values)").arg(name).arg(count);
        }
        if (role == Qt::FontRole && column == NameColumn) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    }

    const AnalyzedValue &value = m_values.at(n->value);
    const JudgedCertificate *users = value.usersCertificate();

    if (n->type == NodeType::Value) {
        const Status status = valueStatus(value);
        switch (role) {
        case Qt::DisplayRole:
            switch (column) {
            case NameColumn: {
                const QString label = users ? users->certificate.subject : value.error;
                return tr("#%1 %2: %3").arg(value.index + 1).arg(valueKindName(value.kind), label);
            }
            case StatusColumn: {
                QString text = statusText(status);
                if (onlyHere(value))
                    text += tr(" · only here");
                return text;
            }
            case ExpiresColumn:
                return users ? QLocale().toString(users->certificate.notAfter.toLocalTime().date(),
                                                  QLocale::ShortFormat)
                             : QString();
            case FingerprintColumn:
                return users ? users->certificate.sha256Hex().left(16) : QString();
            }
            break;
        case Qt::DecorationRole:
            return column == StatusColumn ? QVariant(statusIcon(status)) : QVariant();
        case Qt::ToolTipRole:
            if (column == FingerprintColumn && users)
                return users->certificate.sha256Hex();
            if (value.kind == ValueKind::Invalid)
                return value.error;
            return value.problemsOf(0).codes();
        case Qt::FontRole:
            if (onlyHere(value)) {
                QFont font;
                font.setItalic(true);
                return font;
            }
            break;
        case StatusRole:
            return int(status);
        case Sha256Role:
            return users ? users->certificate.sha256 : QByteArray();
        case OnlyHereRole:
            return onlyHere(value);
        default:
            break;
        }
        return {};
    }

    // A chain element.
    const ChainElement &element = users->chain.chain.at(n->element);
    Status status = Status::Ok;
    if (n->element == 0)
        status = valueStatus(value);
    else if (element.revoked || !element.problems.isEmpty())
        status = Status::Error;
    else if (element.notAfter.isValid() && element.notAfter < QDateTime::currentDateTimeUtc())
        status = Status::Error;
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn: {
            const QString place = n->element == 0 ? tr("leaf")
                : element.isAnchor                ? tr("root (trust anchor)")
                                                  : tr("issuer");
            return tr("%1: %2").arg(place, element.subject);
        }
        case StatusColumn:
            return statusText(status);
        case ExpiresColumn:
            return element.notAfter.isValid()
                ? QLocale().toString(element.notAfter.toLocalTime().date(), QLocale::ShortFormat)
                : QString();
        case FingerprintColumn:
            return QString::fromLatin1(element.sha256.toHex().left(16));
        }
        break;
    case Qt::DecorationRole:
        return column == StatusColumn ? QVariant(statusIcon(status)) : QVariant();
    case Qt::ToolTipRole:
        return element.problems.isEmpty() ? element.subject : element.problems.join(QLatin1Char('\n'));
    case StatusRole:
        return int(status);
    case Sha256Role:
        return element.sha256;
    case OnlyHereRole:
        return false;
    default:
        break;
    }
    return {};
}

QVariant CertificateTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Certificate");
    case StatusColumn:
        return tr("Status");
    case ExpiresColumn:
        return tr("Expires");
    case FingerprintColumn:
        return tr("SHA-256");
    }
    return {};
}

} // namespace certsync::models
