// libFuzzer target: the serialized certificate store (SST) that Get-SmimeConfig returns as
// SMIMECertificateIssuingCA, decoded by certs::decodeSerializedStore. The tenant controls these
// bytes. What decodes must survive a round trip through the encoder: decode(encode(x)) == x for the
// certificates, and a store that is already in the encoder's shape (each certificate after exactly
// its SHA-1 hash property) is written back byte for byte. The fuzz bytes are also cut into a list of
// certificates that the encoder must write into a store that decodes to the same list.
#include "certs/SerializedStore.h"

#include "FuzzSupport.h"

#include <QCryptographicHash>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::certs;

namespace {

QList<QByteArray> dersOf(const QList<SerializedStoreEntry> &entries)
{
    QList<QByteArray> out;
    for (const SerializedStoreEntry &e : entries)
        out.append(e.der);
    return out;
}

// Each certificate preceded by exactly one property, its SHA-1 hash with encodingType 1: what the
// encoder writes.
bool inEncoderShape(const QList<SerializedStoreEntry> &entries)
{
    for (const SerializedStoreEntry &e : entries) {
        if (e.properties.size() != 1)
            return false;
        const SerializedStoreProperty &hash = e.properties.front();
        if (hash.id != 3 || hash.encoding != 1
            || hash.value != QCryptographicHash::hash(e.der, QCryptographicHash::Sha1))
            return false;
    }
    return true;
}

void checkRoundTrip(const QList<QByteArray> &ders)
{
    const QByteArray store = encodeSerializedStore(ders);
    const auto decoded = decodeSerializedStore(store);
    check(decoded.ok(), "the encoder wrote a store the decoder refuses");
    check(dersOf(decoded.value()) == ders, "decode(encode(x)) != x");
    check(inEncoderShape(decoded.value()), "the encoder's hash property does not come back");
    check(encodeSerializedStore(dersOf(decoded.value())) == store, "encode(decode(encode(x))) != encode(x)");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto decoded = decodeSerializedStore(bytes);
    if (decoded.ok()) {
        for (const SerializedStoreEntry &e : decoded.value())
            check(!e.der.isEmpty(), "an empty certificate decoded");
        checkRoundTrip(dersOf(decoded.value()));
        if (inEncoderShape(decoded.value()))
            check(encodeSerializedStore(dersOf(decoded.value())) == bytes.toByteArray(),
                  "a store in the encoder's shape is not written back as it was");
    } else {
        check(decoded.error().code == QLatin1String("sst"), "a refusal without the sst code");
        check(decoded.error().message.contains(QLatin1String("offset ")), "a refusal without its offset");
    }

    // The encoder's direction: the bytes cut at every 0xff into certificates (the encoder takes
    // certificates as DER, never empty; an empty piece is dropped).
    QList<QByteArray> ders;
    for (const QByteArray &piece : QByteArray::fromRawData(bytes.data(), bytes.size()).split('\xff'))
        if (!piece.isEmpty())
            ders.append(piece);
    checkRoundTrip(ders);
    reportLiveHeap();
    return 0;
}
