#pragma once

#include <QStringList>
#include <QTextStream>

namespace certsync::cli {

// `certsync inventory --csv FILE`: reads the directory, judges every certificate, writes the
// inventory CSV of DESIGN.md.
int runInventory(const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace certsync::cli
