#pragma once

#include "directory/DirectorySnapshot.h"
#include "report/CsvWriter.h"

namespace certsync::report {

// The inventory CSV of DESIGN.md: one row per certificate value, one row per certificate inside a
// PKCS#7 value (same value_index), one row for an unreadable value.
class InventoryCsv
{
public:
    explicit InventoryCsv(QIODevice *device);

    static QStringList header();
    bool writeHeader();
    bool writeUser(const directory::DirectoryUser &user); // false on a write error
    [[nodiscard]] qint64 rows() const { return m_csv.rows(); }

    static QString utcTime(const QDateTime &time); // 2026-11-28T09:00:00Z, empty when invalid

private:
    // The rows of one user, as writeUser() writes them, in one buffer.
    static QByteArray userRows(const directory::DirectoryUser &user, qint64 *rows);

    CsvWriter m_csv;
};

} // namespace certsync::report
