// libFuzzer target: the decoders every directory value goes through (X.509, PKCS#7/CMS), the chain
// verifier and the judge. Any crash, leak or undefined behaviour here is a bug: directory values come
// from whoever could write to the directory.
#include "certs/ValueAnalyzer.h"

#include "FuzzSupport.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::certs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const TrustStore trust = [] {
        auto loaded = TrustStore::load({});
        return std::move(loaded).value();
    }();
    static const ValueAnalyzer analyzer(trust, CertificateJudge());

    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    const UserContext user { QStringLiteral("seed@example.test"),
                             { QStringLiteral("smtp:alias@example.test") } };
    const QDateTime now = QDateTime::fromSecsSinceEpoch(1795000000, Qt::UTC);
    for (const Attribute attribute : { Attribute::UserCertificate, Attribute::UserSmimeCertificate }) {
        const AnalyzedValue value = analyzer.analyze(attribute, 0, bytes, user, now);
        // Touch what the CSV and the console read, so that broken fields cannot hide.
        for (int i = 0; i < value.certificates.size(); ++i) {
            const Certificate &c = value.certificates.at(i).certificate;
            (void)value.problemsOf(i).codes();
            (void)c.emails();
            (void)c.keyDescription();
            (void)c.keyUsageNames();
            (void)c.extendedKeyUsageNames();
        }
    }
    if (auto parsed = parseFileBytes(bytes); parsed.ok())
        (void)parsed->size();

    reportLiveHeap();
    return 0;
}
