#pragma once

#include "certs/TrustStore.h"
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
    // The user's report when it has one (DirectoryUser::report), else rows made from its values.
    bool writeUser(const directory::DirectoryUser &user); // false on a write error
    [[nodiscard]] qint64 rows() const { return m_csv.rows(); }

    static QString utcTime(const QDateTime &time); // 2026-11-28T09:00:00Z, empty when invalid

    // The rows of one user made from its analysed values, in one buffer (for a UserReport).
    static QByteArray userRows(const directory::DirectoryUser &user, qint64 *rows);
    // What a user's rows depend on besides its entry and the time: a stored report made under another
    // context is never reused. Bump reportRevision when the judgement or the rows change.
    static QByteArray reportContext(const certs::TrustStore &trust, const certs::JudgePolicy &policy);
    static constexpr int reportRevision = 1;

private:
    CsvWriter m_csv;
};

} // namespace certsync::report
