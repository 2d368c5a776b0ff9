// libFuzzer target: the CSV writer's round trip. The fuzz bytes, read as UTF-8, are rows separated
// by U+001E and fields by U+001F (neither means anything to CSV). What CsvWriter writes must read
// back through the RFC 4180 reader as the same rows, each field as neutralise() made it, and no
// cell may begin the way a spreadsheet formula does.
#include "report/CsvWriter.h"

#include "FuzzSupport.h"

#include <QBuffer>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::report;

namespace {

bool formulaStart(const QString &cell)
{
    static const QString starts = QStringLiteral("=+-@\t\r");
    return !cell.isEmpty() && starts.contains(cell.front());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QString text = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    QList<QStringList> rows;
    for (const QString &row : text.split(QChar(0x1e)))
        rows.append(row.split(QChar(0x1f)));

    QBuffer buffer;
    buffer.open(QIODevice::WriteOnly);
    CsvWriter writer(&buffer);
    for (const QStringList &row : std::as_const(rows))
        check(writer.writeRow(row), "writeRow refused");
    check(writer.rows() == rows.size(), "rows() miscounted");

    const QList<QStringList> back = parseCsv(buffer.data());
    check(back.size() == rows.size(), "a different number of rows read back");
    for (qsizetype r = 0; r < rows.size(); ++r) {
        check(back.at(r).size() == rows.at(r).size(), "a different number of fields read back");
        for (qsizetype f = 0; f < rows.at(r).size(); ++f) {
            check(back.at(r).at(f) == CsvWriter::neutralise(rows.at(r).at(f)), "a field changed on the way");
            check(!formulaStart(back.at(r).at(f)), "a cell a spreadsheet would run as a formula");
        }
    }
    reportLiveHeap();
    return 0;
}
