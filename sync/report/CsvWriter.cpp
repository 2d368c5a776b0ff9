#include "report/CsvWriter.h"

namespace certsync::report {

CsvWriter::CsvWriter(QIODevice *device)
    : m_device(device)
{ }

namespace {

// A spreadsheet would run the field as a formula.
bool startsFormula(QStringView field)
{
    if (field.isEmpty())
        return false;
    const QChar first = field.front();
    return first == QLatin1Char('=') || first == QLatin1Char('+') || first == QLatin1Char('-')
        || first == QLatin1Char('@') || first == QLatin1Char('\t') || first == QLatin1Char('\r');
}

bool needsQuotes(QStringView field)
{
    for (const QChar c : field)
        if (c == QLatin1Char(',') || c == QLatin1Char('"') || c == QLatin1Char('\r')
            || c == QLatin1Char('\n'))
            return true;
    return false;
}

} // namespace

QString CsvWriter::neutralise(const QString &field)
{
    return startsFormula(field) ? QLatin1Char('\'') + field : field;
}

QString CsvWriter::escape(const QString &field)
{
    const QString safe = neutralise(field);
    if (!needsQuotes(safe))
        return safe;
    QString quoted = safe;
    quoted.replace(QLatin1Char('"'), QStringLiteral("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

void CsvWriter::appendField(QByteArray &row, QStringView field, bool first)
{
    if (!first)
        row.append(',');
    if (!startsFormula(field) && !needsQuotes(field)) // the common case: the field as it is
        row.append(field.toUtf8());
    else
        row.append(escape(field.toString()).toUtf8());
}

QByteArray CsvWriter::encodeRow(const QStringList &fields)
{
    QByteArray row;
    for (qsizetype i = 0; i < fields.size(); ++i)
        appendField(row, fields.at(i), i == 0);
    endRow(row);
    return row;
}

bool CsvWriter::writeRow(const QStringList &fields)
{
    return writeRows(encodeRow(fields), 1);
}

bool CsvWriter::writeRows(const QByteArray &bytes, qint64 rows)
{
    if (m_device->write(bytes) != bytes.size())
        return false;
    m_rows += rows;
    return true;
}

QList<QStringList> parseCsv(const QByteArray &bytes)
{
    const QString text = QString::fromUtf8(bytes);
    QList<QStringList> rows;
    QStringList row;
    QString field;
    bool quoted = false;
    bool fieldStarted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text.at(i);
        if (quoted) {
            if (c == QLatin1Char('"')) {
                if (i + 1 < text.size() && text.at(i + 1) == QLatin1Char('"')) {
                    field += c;
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c == QLatin1Char('"') && !fieldStarted) {
            quoted = true;
            fieldStarted = true;
        } else if (c == QLatin1Char(',')) {
            row.append(field);
            field.clear();
            fieldStarted = false;
        } else if (c == QLatin1Char('\r') && i + 1 < text.size() && text.at(i + 1) == QLatin1Char('\n')) {
            continue;
        } else if (c == QLatin1Char('\n')) {
            row.append(field);
            rows.append(row);
            row.clear();
            field.clear();
            fieldStarted = false;
        } else {
            field += c;
            fieldStarted = true;
        }
    }
    if (fieldStarted || !row.isEmpty()) {
        row.append(field);
        rows.append(row);
    }
    return rows;
}

} // namespace certsync::report
