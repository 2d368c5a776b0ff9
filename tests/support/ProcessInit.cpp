// Linked into every test executable: OpenSSL is initialised as certsync's own main() does it
// (see ossl::initialiseForProcess), before QTest's main runs and anything touches OpenSSL.
#include "certs/OpenSsl.h"

#include <QtGlobal>

namespace {
void initialiseOpenSsl()
{
    certsync::ossl::initialiseForProcess();
}
} // namespace

Q_CONSTRUCTOR_FUNCTION(initialiseOpenSsl)
