#pragma once

#include <QIODevice>
#include <QString>
#include <QStringList>

namespace certsync::report {

// RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, quote, CR or LF, quotes doubled.
// A field that a spreadsheet would run as a formula (it begins with =, +, -, @, tab or CR) gets a
// leading apostrophe, which spreadsheets show as text and never evaluate.
class CsvWriter
{
public:
    explicit CsvWriter(QIODevice *device);

    bool writeRow(const QStringList &fields); // false when the device refuses the bytes
    [[nodiscard]] qint64 rows() const { return m_rows; }

    // Rows built by the caller with appendField(), `rows` of them, written at once.
    bool writeRows(const QByteArray &bytes, qint64 rows);

    static QString neutralise(const QString &field);
    static QString escape(const QString &field); // neutralise, then quote as needed
    static QByteArray encodeRow(const QStringList &fields);
    // Appends escape(field) as UTF-8, and the separator before it unless it is a row's first field.
    static void appendField(QByteArray &row, QStringView field, bool first = false);
    static void endRow(QByteArray &row) { row.append("\r\n", 2); }

private:
    QIODevice *m_device;
    qint64 m_rows = 0;
};

// Reads what CsvWriter writes (RFC 4180, quoted fields may span lines). For tests and imports.
QList<QStringList> parseCsv(const QByteArray &bytes);

} // namespace certsync::report
