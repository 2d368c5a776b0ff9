#pragma once

#include <QStringList>
#include <QTextStream>

namespace certsync::cli {

// `certsync inspect FILE...`: one certificate, PEM bundle or PKCS#7 file's details and verdict.
int runInspect(const QStringList &arguments, QTextStream &out, QTextStream &err);

} // namespace certsync::cli
