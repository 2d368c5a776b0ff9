#include "cli/InspectCommand.h"

#include "certs/ValueAnalyzer.h"
#include "cli/CommandLine.h"

#include <QCommandLineParser>
#include <QFile>
#include <QFileInfo>

namespace certsync::cli {

using namespace certs;

namespace {

QString isoTime(const QDateTime &time)
{
    return time.isValid() ? time.toUTC().toString(Qt::ISODate) : QStringLiteral("-");
}

QString hexColons(const QByteArray &bytes)
{
    return QString::fromLatin1(bytes.toHex(':')).toUpper();
}

// A file may hold DER or PEM; PEM "PKCS7"/"CMS" blocks are unwrapped to DER here.
QByteArray unwrapPemPkcs7(const QByteArray &bytes)
{
    for (const char *label : { "PKCS7", "CMS" }) {
        const QByteArray begin = QByteArray("-----BEGIN ") + label + "-----";
        const QByteArray end = QByteArray("-----END ") + label + "-----";
        const qsizetype from = bytes.indexOf(begin);
        const qsizetype to = bytes.indexOf(end);
        if (from >= 0 && to > from)
            return QByteArray::fromBase64(
                bytes.mid(from + begin.size(), to - from - begin.size()).simplified());
    }
    return {};
}

void printCertificate(QTextStream &out, const JudgedCertificate &judged, const AnalyzedValue &value,
                      int index)
{
    const Certificate &c = judged.certificate;
    const ProblemSet problems = value.problemsOf(index);
    out << "  certificate " << (index + 1) << " of " << value.certificates.size()
        << (judged.isUsers ? " (the user's)"
                : c.isCa   ? " (issuing CA)"
                           : "")
        << '\n';
    out << "    subject:            " << c.subject << '\n';
    out << "    issuer:             " << c.issuer << '\n';
    out << "    serial:             " << c.serialHex << '\n';
    out << "    valid:              " << isoTime(c.notBefore) << " to " << isoTime(c.notAfter) << '\n';
    if (!c.emails().isEmpty())
        out << "    e-mail:             " << c.emails().join(QStringLiteral(", ")) << '\n';
    if (!c.upnSans.isEmpty())
        out << "    UPN:                " << c.upnSans.join(QStringLiteral(", ")) << '\n';
    if (!c.dnsSans.isEmpty())
        out << "    DNS:                " << c.dnsSans.join(QStringLiteral(", ")) << '\n';
    out << "    key:                " << c.keyDescription() << '\n';
    out << "    signature:          " << c.signatureAlgorithm << '\n';
    out << "    key usage:          "
        << (c.hasKeyUsage ? c.keyUsageNames().join(QStringLiteral(", ")) : QStringLiteral("(any)")) << '\n';
    out << "    extended key usage: "
        << (c.hasExtendedKeyUsage ? c.extendedKeyUsageNames().join(QStringLiteral(", "))
                                  : QStringLiteral("(any)"))
        << '\n';
    out << "    basic constraints:  "
        << (c.isCa ? (c.pathLength >= 0 ? QStringLiteral("CA, path length %1").arg(c.pathLength)
                                        : QStringLiteral("CA"))
                   : QStringLiteral("end entity"))
        << '\n';
    out << "    SHA-256:            " << c.sha256Hex() << '\n';
    out << "    SHA-1:              " << c.sha1Hex() << '\n';
    if (!c.subjectKeyId.isEmpty())
        out << "    subject key id:     " << hexColons(c.subjectKeyId) << '\n';
    if (!c.authorityKeyId.isEmpty())
        out << "    authority key id:   " << hexColons(c.authorityKeyId) << '\n';
    for (const QString &url : c.caIssuersUrls)
        out << "    CA issuers:         " << url << '\n';
    for (const QString &url : c.ocspUrls)
        out << "    OCSP:               " << url << '\n';
    for (const QString &url : c.crlUrls)
        out << "    CRL:                " << url << '\n';
    out << "    chain:              " << chainStatusName(judged.chain.status);
    if (!judged.chain.message.isEmpty())
        out << " (" << judged.chain.message << ')';
    out << '\n';
    for (int depth = 0; depth < judged.chain.chain.size(); ++depth) {
        const ChainElement &e = judged.chain.chain.at(depth);
        out << "      " << depth << ": " << e.subject << (e.isAnchor ? "  [trust anchor]" : "")
            << (e.revoked ? "  [revoked]" : "") << '\n';
        for (const QString &problem : e.problems)
            out << "         " << problem << '\n';
    }
    out << "    status:             " << statusName(problems.status()) << '\n';
    for (Problem p : problems.toList())
        out << "      - " << problemCode(p) << ": " << problemText(p) << '\n';
}

} // namespace

int runInspect(const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Shows a certificate, PEM bundle or PKCS#7 (userSMIMECertificate) file's details and "
                       "verdict."));
    parser.addHelpOption();
    const QCommandLineOption trust(
        QStringLiteral("trust"),
        QStringLiteral("PEM bundle of S/MIME trust anchors and intermediates (repeatable)."),
        QStringLiteral("FILE"));
    const QCommandLineOption crl(QStringLiteral("crl"), QStringLiteral("CRL file, PEM or DER (repeatable)."),
                                 QStringLiteral("FILE"));
    const QCommandLineOption systemTrust(QStringLiteral("system-trust"),
                                         QStringLiteral("Also trust the system's CA bundle."));
    const QCommandLineOption mail(QStringLiteral("mail"),
                                  QStringLiteral("The user's e-mail address, to check the "
                                                 "certificate's against."),
                                  QStringLiteral("ADDRESS"));
    const QCommandLineOption warningDays(QStringLiteral("warning-days"),
                                         QStringLiteral("Expiry warning window in days (default 30)."),
                                         QStringLiteral("DAYS"), QStringLiteral("30"));
    parser.addOptions({ trust, crl, systemTrust, mail, warningDays });
    parser.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("Files to inspect."),
                                 QStringLiteral("FILE..."));
    if (!parser.parse(QStringList { QStringLiteral("certsync inspect") } + arguments)) {
        err << "certsync inspect: " << parser.errorText() << '\n';
        return Usage;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out << commandHelp(parser, QStringLiteral("inspect"));
        return Success;
    }
    const QStringList files = parser.positionalArguments();
    if (files.isEmpty()) {
        err << "certsync inspect: name at least one file\n";
        return Usage;
    }
    bool daysOk = false;
    JudgePolicy policy;
    policy.warningDays = parser.value(warningDays).toInt(&daysOk);
    if (!daysOk || policy.warningDays < 0) {
        err << "certsync inspect: --warning-days takes a whole number of days\n";
        return Usage;
    }

    TrustSettings settings;
    settings.useSystemAnchors = parser.isSet(systemTrust);
    settings.bundleFiles = parser.values(trust);
    settings.crlFiles = parser.values(crl);
    auto store = TrustStore::load(settings);
    if (!store) {
        err << "certsync inspect: " << store.error().message << '\n';
        return Failure;
    }
    policy.requireTrust = true;
    const ValueAnalyzer analyzer(*store, CertificateJudge(policy));
    UserContext user;
    user.mail = parser.value(mail);
    const QDateTime now = QDateTime::currentDateTimeUtc();

    int failures = 0;
    for (const QString &path : files) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            err << "certsync inspect: cannot read " << path << ": " << file.errorString() << '\n';
            ++failures;
            continue;
        }
        const QByteArray bytes = file.readAll();
        QList<QByteArray> values; // each analysed as one directory value
        Attribute attribute = Attribute::UserSmimeCertificate; // accepts PKCS#7 and bare certificates
        if (const QByteArray pkcs7 = unwrapPemPkcs7(bytes); !pkcs7.isEmpty()) {
            values.append(pkcs7);
        } else if (bytes.contains("-----BEGIN")) {
            auto certs = parseFileBytes(bytes);
            if (!certs) {
                err << "certsync inspect: " << path << ": " << certs.error().message << '\n';
                ++failures;
                continue;
            }
            attribute = Attribute::UserCertificate;
            for (const ParsedCertificate &cert : *certs)
                values.append(cert.info.der);
        } else {
            values.append(bytes);
        }

        out << QFileInfo(path).fileName() << '\n';
        for (int i = 0; i < values.size(); ++i) {
            const AnalyzedValue value = analyzer.analyze(attribute, i, values.at(i), user, now);
            if (value.kind == ValueKind::Invalid) {
                out << "  invalid (" << value.size << " bytes): " << value.error << '\n';
                err << "certsync inspect: " << path << ": " << value.error << '\n';
                ++failures;
                continue;
            }
            out << "  value " << (i + 1) << ": " << valueKindName(value.kind) << ", " << value.size
                << " bytes";
            if (value.kind == ValueKind::Pkcs7)
                out << (value.pkcs7Signed ? ", signed" : ", certificates only")
                    << ", user's certificate chosen by "
                    << (value.userChoice.isEmpty() ? QStringLiteral("(none)") : value.userChoice);
            out << '\n';
            if (!value.capabilities.isEmpty()) {
                out << "  S/MIME capabilities:\n";
                for (const SmimeCapability &cap : value.capabilities)
                    out << "    " << cap.name << " (" << cap.oid << ')'
                        << (cap.parameter >= 0 ? QStringLiteral(" %1").arg(cap.parameter) : QString())
                        << '\n';
            }
            for (int c = 0; c < value.certificates.size(); ++c)
                printCertificate(out, value.certificates.at(c), value, c);
        }
    }
    return failures ? Failure : Success;
}

} // namespace certsync::cli
