#include "certs/TrustStore.h"

#include "certs/Certificate.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <openssl/asn1t.h>
#include <openssl/pem.h>

namespace certsync::certs {

namespace {

Result<QByteArray> readFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return Error { QStringLiteral("trust_file"),
                       QStringLiteral("cannot read %1: %2").arg(path, file.errorString()) };
    return file.readAll();
}

QStringList filesIn(const QString &directory)
{
    QStringList out;
    const QDir dir(directory);
    for (const QString &name : dir.entryList({ QStringLiteral("*.pem"), QStringLiteral("*.crt"),
                                               QStringLiteral("*.cer"), QStringLiteral("*.der") },
                                             QDir::Files | QDir::Readable, QDir::Name))
        out.append(dir.filePath(name));
    return out;
}

Error canceled()
{
    return Error { QStringLiteral("canceled"), QStringLiteral("loading the trust settings was cancelled") };
}

// The load's progress over all its files: `step(read)` tells how far the current file is.
class Progress
{
public:
    Progress(const TrustStore::LoadProgress &report, qint64 total)
        : m_report(report)
        , m_total(total)
    { }
    // Starts the next file; false when cancelled.
    bool startFile(const QString &path)
    {
        m_file = path;
        return step(0);
    }
    bool step(qint64 read) { return !m_report || m_report(m_done + read, m_total, m_file); }
    void endFile(qint64 size) { m_done += size; }
    [[nodiscard]] std::function<bool(qint64)> stepper()
    {
        if (!m_report)
            return {};
        return [this](qint64 read) { return step(read); };
    }

private:
    const TrustStore::LoadProgress &m_report;
    qint64 m_total;
    qint64 m_done = 0;
    QString m_file;
};

Result<std::vector<ParsedCertificate>> readCertificates(const QString &path, Progress &progress)
{
    if (!progress.startFile(path))
        return canceled();
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    auto certs = parseFileBytes(*bytes, progress.stepper());
    if (!certs && certs.error().code == QLatin1String("canceled"))
        return canceled();
    if (!certs)
        return Error { QStringLiteral("trust_file"),
                       QStringLiteral("%1: %2").arg(path, certs.error().message) };
    progress.endFile(bytes->size());
    return certs;
}

Result<int> addCrls(X509_STORE *store, const QString &path, std::vector<ossl::X509CrlPtr> &keep,
                    Progress &progress)
{
    if (!progress.startFile(path))
        return canceled();
    auto bytes = readFile(path);
    if (!bytes)
        return bytes.error();
    int added = 0;
    if (bytes->contains("-----BEGIN")) {
        ossl::BioPtr bio(BIO_new_mem_buf(bytes->constData(), int(bytes->size())));
        while (ossl::X509CrlPtr crl { PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) }) {
            X509_STORE_add_crl(store, crl.get());
            keep.push_back(std::move(crl));
            ++added;
            if (!progress.step(bytes->size() - qint64(BIO_ctrl_pending(bio.get())))) {
                ossl::drainErrors();
                return canceled();
            }
        }
        ossl::drainErrors();
    } else {
        const auto *p = reinterpret_cast<const unsigned char *>(bytes->constData());
        if (ossl::X509CrlPtr crl { d2i_X509_CRL(nullptr, &p, long(bytes->size())) }) {
            X509_STORE_add_crl(store, crl.get());
            keep.push_back(std::move(crl));
            ++added;
        }
    }
    if (added == 0)
        return ossl::error(QStringLiteral("trust_file"),
                           QStringLiteral("%1 holds no readable CRL").arg(path));
    progress.endFile(bytes->size());
    return added;
}

// A copy of `cert` decoded into `context`.
ossl::X509Ptr copyInto(const ossl::LibContext &context, X509 *cert)
{
    const QByteArray der = ossl::der(cert);
    qsizetype consumed = 0;
    return ossl::decodeCertificate(context, der, &consumed);
}

ossl::X509CrlPtr copyInto(const ossl::LibContext &context, X509_CRL *crl)
{
    const QByteArray der = ossl::der(crl);
    if (der.isEmpty())
        return nullptr;
    X509_CRL *copy = X509_CRL_new_ex(context.get(), nullptr);
    const auto *p = reinterpret_cast<const unsigned char *>(der.constData());
    if (copy) // on failure ASN1_item_d2i frees the object and clears the pointer
        ASN1_item_d2i(reinterpret_cast<ASN1_VALUE **>(&copy), &p, long(der.size()), ASN1_ITEM_rptr(X509_CRL));
    return ossl::X509CrlPtr(copy);
}

} // namespace

QByteArray TrustStore::fingerprintOf(const TrustStore &trust)
{
    // Each part with its kind and length, so that no two configurations hash the same bytes.
    QByteArray all = QByteArrayLiteral("certsync trust 1");
    auto add = [&all](char kind, const QByteArray &bytes) {
        all += kind;
        all += QByteArray::number(bytes.size());
        all += ':';
        all += bytes;
    };
    if (trust.m_system) {
        QFile bundle(QString::fromLocal8Bit(X509_get_default_cert_file()));
        add('s', bundle.open(QIODevice::ReadOnly) ? sha256Of(bundle.readAll()) : QByteArray("unreadable"));
    }
    for (const ossl::X509Ptr &cert : trust.m_anchors)
        add('a', ossl::der(cert.get()));
    for (const ossl::X509Ptr &cert : trust.m_intermediates)
        add('i', ossl::der(cert.get()));
    for (const ossl::X509CrlPtr &crl : trust.m_crls)
        add('c', ossl::der(crl.get()));
    return sha256Of(all);
}

Result<TrustStore> TrustStore::inContext(const ossl::LibContext &context) const
{
    auto failed = [] {
        return ossl::error(QStringLiteral("trust_store"),
                           QStringLiteral("cannot copy the trust store into a library context"));
    };
    TrustStore copy;
    copy.m_context = &context;
    copy.m_store.reset(X509_STORE_new());
    if (!copy.m_store)
        return failed();
    copy.m_system = m_system;
    copy.m_fingerprint = m_fingerprint;
    copy.m_anchorCount = m_anchorCount;
    copy.m_crlCount = m_crlCount;
    if (m_system && X509_STORE_set_default_paths_ex(copy.m_store.get(), context.get(), nullptr) != 1)
        return failed();
    for (const ossl::X509Ptr &anchor : m_anchors) {
        ossl::X509Ptr cert = copyInto(context, anchor.get());
        if (!cert || X509_STORE_add_cert(copy.m_store.get(), cert.get()) != 1)
            return failed();
        copy.m_anchors.push_back(std::move(cert));
    }
    for (const ossl::X509Ptr &intermediate : m_intermediates) {
        ossl::X509Ptr cert = copyInto(context, intermediate.get());
        if (!cert)
            return failed();
        copy.m_intermediates.push_back(std::move(cert));
    }
    for (const ossl::X509CrlPtr &crl : m_crls) {
        ossl::X509CrlPtr copied = copyInto(context, crl.get());
        if (!copied || X509_STORE_add_crl(copy.m_store.get(), copied.get()) != 1)
            return failed();
        copy.m_crls.push_back(std::move(copied));
    }
    return copy;
}

Result<TrustStore> TrustStore::load(const TrustSettings &settings, const LoadProgress &report)
{
    TrustStore trust;
    trust.m_store.reset(X509_STORE_new());
    if (!trust.m_store)
        return ossl::error(QStringLiteral("trust_store"), QStringLiteral("cannot create an X509_STORE"));

    trust.m_system = settings.useSystemAnchors;
    if (settings.useSystemAnchors && X509_STORE_set_default_paths(trust.m_store.get()) != 1)
        return ossl::error(QStringLiteral("trust_store"),
                           QStringLiteral("cannot load the system trust anchors"));

    QStringList anchors = settings.anchorFiles;
    for (const QString &dir : settings.anchorDirectories)
        anchors += filesIn(dir);
    QStringList intermediates = settings.intermediateFiles;
    for (const QString &dir : settings.intermediateDirectories)
        intermediates += filesIn(dir);
    qint64 total = 0;
    for (const QStringList *files : std::initializer_list<const QStringList *> {
             &anchors, &intermediates, &settings.bundleFiles, &settings.crlFiles })
        for (const QString &path : *files)
            total += QFileInfo(path).size();
    Progress progress(report, total);

    for (const QString &path : anchors) {
        auto certs = readCertificates(path, progress);
        if (!certs)
            return certs.error();
        for (ParsedCertificate &cert : *certs) {
            // A duplicate anchor is harmless; OpenSSL 3 no longer reports it as an error.
            if (X509_STORE_add_cert(trust.m_store.get(), cert.handle.get()) != 1)
                return ossl::error(
                    QStringLiteral("trust_store"),
                    QStringLiteral("cannot add anchor %1 from %2").arg(cert.info.subject, path));
            trust.m_anchors.push_back(std::move(cert.handle));
            ++trust.m_anchorCount;
        }
    }

    for (const QString &path : intermediates) {
        auto certs = readCertificates(path, progress);
        if (!certs)
            return certs.error();
        for (ParsedCertificate &cert : *certs)
            trust.m_intermediates.push_back(std::move(cert.handle));
    }

    for (const QString &path : settings.bundleFiles) {
        auto certs = readCertificates(path, progress);
        if (!certs)
            return certs.error();
        for (ParsedCertificate &cert : *certs) {
            if (cert.info.isCa && cert.info.selfSigned) {
                if (X509_STORE_add_cert(trust.m_store.get(), cert.handle.get()) != 1)
                    return ossl::error(
                        QStringLiteral("trust_store"),
                        QStringLiteral("cannot add anchor %1 from %2").arg(cert.info.subject, path));
                trust.m_anchors.push_back(std::move(cert.handle));
                ++trust.m_anchorCount;
            } else {
                trust.m_intermediates.push_back(std::move(cert.handle));
            }
        }
    }

    for (const QString &path : settings.crlFiles) {
        auto added = addCrls(trust.m_store.get(), path, trust.m_crls, progress);
        if (!added)
            return added.error();
        trust.m_crlCount += *added;
    }
    trust.m_fingerprint = fingerprintOf(trust);
    return trust;
}

} // namespace certsync::certs
