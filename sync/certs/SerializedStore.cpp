#include "certs/SerializedStore.h"

#include <QCryptographicHash>
#include <QtEndian>

namespace certsync::certs {

namespace {

constexpr quint32 StoreVersion = 0;
constexpr quint32 FileTypeCert = 0x54524543; // "CERT"
constexpr quint32 CertificateElementId = 0x20;
constexpr quint32 Sha1HashPropertyId = 3; // CERT_SHA1_HASH_PROP_ID
constexpr quint32 X509AsnEncoding = 1;
constexpr qsizetype HeaderSize = 8;
constexpr qsizetype EntryHeaderSize = 12;

quint32 readU32(QByteArrayView bytes, qsizetype offset)
{
    return qFromLittleEndian<quint32>(bytes.data() + offset);
}

void appendU32(QByteArray &out, quint32 value)
{
    char buffer[4];
    qToLittleEndian(value, buffer);
    out.append(buffer, 4);
}

void appendEntry(QByteArray &out, quint32 id, quint32 encoding, const QByteArray &value)
{
    appendU32(out, id);
    appendU32(out, encoding);
    appendU32(out, quint32(value.size()));
    out.append(value);
}

Error sstError(qsizetype offset, const QString &what)
{
    return Error { QStringLiteral("sst"),
                   QStringLiteral("serialized certificate store, offset %1: %2").arg(offset).arg(what) };
}

} // namespace

Result<QList<SerializedStoreEntry>> decodeSerializedStore(QByteArrayView bytes)
{
    if (bytes.size() < HeaderSize)
        return sstError(0, QStringLiteral("%1 bytes, shorter than the 8-byte header").arg(bytes.size()));
    if (readU32(bytes, 0) != StoreVersion)
        return sstError(0, QStringLiteral("version %1, expected 0").arg(readU32(bytes, 0)));
    if (readU32(bytes, 4) != FileTypeCert)
        return sstError(4,
                        QStringLiteral("file type 0x%1, expected 0x54524543 (CERT)")
                            .arg(readU32(bytes, 4), 8, 16, QLatin1Char('0')));
    QList<SerializedStoreEntry> entries;
    SerializedStoreEntry current;
    qsizetype offset = HeaderSize;
    while (true) {
        if (bytes.size() - offset < EntryHeaderSize)
            return sstError(offset, QStringLiteral("no end marker"));
        const quint32 id = readU32(bytes, offset);
        const quint32 encoding = readU32(bytes, offset + 4);
        const quint32 length = readU32(bytes, offset + 8);
        if (id == 0) {
            if (encoding != 0 || length != 0)
                return sstError(offset, QStringLiteral("end marker with non-zero fields"));
            if (!current.properties.isEmpty())
                return sstError(offset, QStringLiteral("properties with no certificate after them"));
            offset += EntryHeaderSize;
            break;
        }
        if (quint64(length) > quint64(bytes.size() - offset - EntryHeaderSize))
            return sstError(offset,
                            QStringLiteral("entry %1 of %2 bytes runs past the end").arg(id).arg(length));
        const QByteArray value = bytes.sliced(offset + EntryHeaderSize, qsizetype(length)).toByteArray();
        if (id == CertificateElementId) {
            if (encoding != X509AsnEncoding)
                return sstError(
                    offset,
                    QStringLiteral("certificate with encoding type %1, expected 1 (X.509)").arg(encoding));
            if (value.isEmpty())
                return sstError(offset, QStringLiteral("empty certificate"));
            current.der = value;
            entries.append(std::move(current));
            current = {};
        } else {
            current.properties.append({ id, encoding, value });
        }
        offset += EntryHeaderSize + qsizetype(length);
    }
    if (offset != bytes.size())
        return sstError(offset, QStringLiteral("%1 bytes after the end marker").arg(bytes.size() - offset));
    return entries;
}

QByteArray encodeSerializedStore(const QList<QByteArray> &derCertificates)
{
    QByteArray out;
    appendU32(out, StoreVersion);
    appendU32(out, FileTypeCert);
    for (const QByteArray &der : derCertificates) {
        appendEntry(out, Sha1HashPropertyId, X509AsnEncoding,
                    QCryptographicHash::hash(der, QCryptographicHash::Sha1));
        appendEntry(out, CertificateElementId, X509AsnEncoding, der);
    }
    appendU32(out, 0);
    appendU32(out, 0);
    appendU32(out, 0);
    return out;
}

} // namespace certsync::certs
