#pragma once

// What the console's users table, its filter and the dashboard show of one directory user, stored
// beside the user's row (StoredDirectory) so that the console opens on a stored snapshot without
// decoding the values or looking a single analysis up: one sequential query at start.

#include "certs/Problem.h"
#include "directory/DirectorySnapshot.h"

#include <QByteArray>
#include <QList>

#include <optional>

namespace certsync::directory {

struct UserSummary
{
    // The user's identifiers: everything of DirectoryUser but the values and their analysis (what
    // the table, the search and the matching with the tenant use). userCertificate and
    // userSmimeCertificate stay empty; the certificate pane loads them from the stored row.
    DirectoryUser identity;
    // As judged when the snapshot was stored.
    certs::Status status = certs::Status::Ok;
    int certificates = 0; // the user's own certificates across both attributes
    bool overLimit = false; // a value with over_limit (more values than Entra Connect exports)
    int invalidValues = 0;
    QList<qint64> notAfters; // each own certificate's, UTC epoch milliseconds, in value order
    QList<QByteArray> sha256; // each distinct own certificate's SHA-256, raw, in value order
    // The verdict's directory path (engine::outlookPick): whether Outlook's pick can be encrypted
    // to, and the reason codes when not.
    bool directoryCanEncrypt = false;
    QStringList encryptReasons;

    // From an analysed user (its values judged); values not analysed give nullopt.
    static std::optional<UserSummary> of(const DirectoryUser &user);
    [[nodiscard]] QByteArray encode() const;
    static std::optional<UserSummary> decode(const QByteArray &bytes); // nullopt when damaged
};

} // namespace certsync::directory
