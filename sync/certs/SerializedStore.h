#pragma once

// Windows' serialized certificate store (an .sst file; [MS-OSHARED] 2.3.9.1 DocSigSerializedCertStore):
// what Set-SmimeConfig -SMIMECertificateIssuingCA takes and Get-SmimeConfig returns as bytes.
//
//   version 0 (uint32) | fileType 0x54524543 ("CERT", uint32)
//   per certificate: property entries {id, encodingType, length (uint32 each), value}, the last one
//   with id 0x20 (the certificate, encodingType 1 = X.509 ASN.1, value = its DER)
//   end marker: id 0 and 8 bytes of zero
// All fields little-endian. Pure byte handling: the certificates are returned as DER, unparsed.

#include "core/Result.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QList>

namespace certsync::certs {

// A property entry as it stands in the file. Windows writes encodingType 1 on properties too; other
// values are kept as read (the decoder does not judge them), so that what decodes is what was there.
struct SerializedStoreProperty
{
    quint32 id = 0;
    quint32 encoding = 0;
    QByteArray value;
};

struct SerializedStoreEntry
{
    QByteArray der; // the certificate
    // The properties written before it, in file order: Windows adds its SHA-1 hash (3), key
    // identifier (20) and others. Kept for diagnostics; certsync does not interpret them.
    QList<SerializedStoreProperty> properties;
};

// Decodes a serialized store. Error code "sst" with the offset and what is wrong: a bad header, an
// entry that runs past the end, a certificate not encoded as X.509 (encodingType 1), properties
// with no certificate after them, no end marker, bytes after the end marker.
Result<QList<SerializedStoreEntry>> decodeSerializedStore(QByteArrayView bytes);

// The store holding `derCertificates`, in order, each with its SHA-1 hash property as Windows'
// certificate tools write it, and the end marker. Empty input gives a valid empty store.
QByteArray encodeSerializedStore(const QList<QByteArray> &derCertificates);

} // namespace certsync::certs
