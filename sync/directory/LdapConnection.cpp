#include "directory/LdapConnection.h"

#include "certs/Certificate.h"
#include "core/Logging.h"

#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QUrl>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <vector>

namespace certsync::directory {

namespace {

struct MemFree
{
    void operator()(void *p) const noexcept { ldap_memfree(p); }
};
using LdapString = std::unique_ptr<char, MemFree>;
struct BerFree
{
    void operator()(BerElement *b) const noexcept { ber_free(b, 0); }
};
using BerPtr = std::unique_ptr<BerElement, BerFree>;
struct ControlFree
{
    void operator()(LDAPControl *c) const noexcept { ldap_control_free(c); }
};
using ControlPtr = std::unique_ptr<LDAPControl, ControlFree>;
struct ControlsFree
{
    void operator()(LDAPControl **c) const noexcept { ldap_controls_free(c); }
};
using ControlsPtr = std::unique_ptr<LDAPControl *, ControlsFree>;
struct StringsFree
{
    void operator()(char **s) const noexcept { ber_memvfree(reinterpret_cast<void **>(s)); }
};
using StringsPtr = std::unique_ptr<char *, StringsFree>;

constexpr int pollSliceMs = 100;

timeval toTimeval(int ms)
{
    return timeval { ms / 1000, (ms % 1000) * 1000 };
}

int resultCode(LDAP *ld)
{
    int code = LDAP_OTHER;
    ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code);
    return code;
}

QString diagnostic(LDAP *ld)
{
    char *text = nullptr;
    if (ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &text) != LDAP_OPT_SUCCESS || !text)
        return {};
    const LdapString owned(text);
    return QString::fromUtf8(text).trimmed();
}

QString normaliseFingerprint(QString hex)
{
    hex.remove(QLatin1Char(':'));
    hex.remove(QLatin1Char(' '));
    return hex.toLower();
}

QString colonHex(const QString &hex)
{
    QString out;
    for (int i = 0; i < hex.size(); i += 2) {
        if (i)
            out += QLatin1Char(':');
        out += hex.mid(i, 2);
    }
    return out;
}

std::optional<ServerCertificate> peerCertificate(LDAP *ld)
{
    berval cert { 0, nullptr };
    if (ldap_get_option(ld, LDAP_OPT_X_TLS_PEERCERT, &cert) != LDAP_OPT_SUCCESS || !cert.bv_val)
        return std::nullopt;
    ServerCertificate out;
    out.der = QByteArray(cert.bv_val, qsizetype(cert.bv_len));
    ber_memfree(cert.bv_val);
    out.sha256Hex =
        QString::fromLatin1(QCryptographicHash::hash(out.der, QCryptographicHash::Sha256).toHex());
    if (auto parsed = certs::parseDer(out.der))
        out.subject = parsed->info.subject;
    return out;
}

// Handle-level options: every one set on the handle, none in libldap's process-wide defaults, so
// that two profiles in one process never see each other's TLS settings.
Result<LdapPtr> initialise(const ConnectionProfile &profile, int requireCert)
{
    const QUrl url(profile.url, QUrl::StrictMode);
    const QString scheme = url.scheme().toLower();
    if (!url.isValid() || (scheme != QLatin1String("ldap") && scheme != QLatin1String("ldaps"))
        || url.host().isEmpty())
        return Error { QStringLiteral("config"),
                       QStringLiteral("'%1' is not an LDAP URL (ldap://host[:port] or ldaps://host[:port])")
                           .arg(profile.url) };
    LDAP *raw = nullptr;
    const QByteArray urlBytes = profile.url.toUtf8();
    if (int rc = ldap_initialize(&raw, urlBytes.constData()); rc != LDAP_SUCCESS)
        return Error {
            QStringLiteral("config"),
            QStringLiteral("cannot use %1: %2").arg(profile.url, QString::fromUtf8(ldap_err2string(rc)))
        };
    LdapPtr ld(raw);
    const int version = LDAP_VERSION3;
    ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version);
    ldap_set_option(ld.get(), LDAP_OPT_REFERRALS, profile.chaseReferrals ? LDAP_OPT_ON : LDAP_OPT_OFF);
    const timeval connectTimeout = toTimeval(profile.connectTimeoutMs);
    ldap_set_option(ld.get(), LDAP_OPT_NETWORK_TIMEOUT, &connectTimeout);
    const timeval operationTimeout = toTimeval(profile.operationTimeoutMs);
    ldap_set_option(ld.get(), LDAP_OPT_TIMEOUT, &operationTimeout);
    // Kerberos: the service principal is ldap/<the URL's host>, as given. libldap would otherwise
    // replace the host by a reverse-DNS answer, which an attacker controlling DNS could choose (and
    // which a loopback or NAT address gets wrong); the Kerberos library still applies its own
    // krb5.conf canonicalisation rules to the name.
    if (profile.bind == BindMethod::Gssapi) {
        ldap_set_option(ld.get(), LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON);
        // Inside TLS, Active Directory refuses a second, SASL, security layer ("cannot bind using
        // sign/seal on a connection on which TLS or SSL is in effect"). Without TLS, Kerberos' own
        // encryption is required: the connection is never left unprotected.
        ber_len_t ssf = profile.usesTls() ? 0 : 56;
        ldap_set_option(ld.get(), profile.usesTls() ? LDAP_OPT_X_SASL_SSF_MAX : LDAP_OPT_X_SASL_SSF_MIN,
                        &ssf);
    }

    if (profile.usesTls()) {
        if (!profile.caFile.isEmpty()) {
            const QByteArray ca = profile.caFile.toLocal8Bit();
            ldap_set_option(ld.get(), LDAP_OPT_X_TLS_CACERTFILE, ca.constData());
        }
        ldap_set_option(ld.get(), LDAP_OPT_X_TLS_REQUIRE_CERT, &requireCert);
        const int isServer = 0;
        if (int rc = ldap_set_option(ld.get(), LDAP_OPT_X_TLS_NEWCTX, &isServer); rc != LDAP_OPT_SUCCESS)
            return Error { QStringLiteral("tls"),
                           QStringLiteral("cannot set up TLS for %1 (is the CA file %2 readable PEM?): %3")
                               .arg(profile.url, profile.caFile, diagnostic(ld.get())) };
    }
    return ld;
}

// Opens the transport: StartTLS on ldap://, the TLS handshake on ldaps://. Returns the libldap
// result code.
int connectTransport(LDAP *ld, const ConnectionProfile &profile)
{
    const bool ldaps = profile.url.startsWith(QLatin1String("ldaps://"), Qt::CaseInsensitive);
    if (!ldaps && profile.startTls)
        return ldap_start_tls_s(ld, nullptr, nullptr);
    return ldap_connect(ld);
}

int saslInteract(LDAP *, unsigned, void *, void *)
{
    return LDAP_SUCCESS; // GSSAPI takes everything from the Kerberos credential cache
}

// The lookup keys of the attribute names a search meets, each made once: every entry repeats the
// same few names.
class AttributeKeys
{
public:
    QString key(const berval &name)
    {
        const QByteArrayView view(name.bv_val, qsizetype(name.bv_len));
        for (const auto &[raw, key] : m_known)
            if (raw == view)
                return key; // shared, not copied
        m_known.emplace_back(view.toByteArray(), LdapEntry::key(QString::fromUtf8(view)));
        return m_known.back().second;
    }

    [[nodiscard]] qsizetype count() const { return qsizetype(m_known.size()); }

private:
    std::vector<std::pair<QByteArray, QString>> m_known;
};

QString decodingError(LDAP *ld, int rc)
{
    QString text = QString::fromUtf8(ldap_err2string(rc));
    if (const QString diag = diagnostic(ld); !diag.isEmpty())
        text += QStringLiteral(" (%1)").arg(diag);
    return text;
}

// One entry in a single pass over its BER, the way ldapsearch reads it: the DN and the values are
// taken in place (ldap_get_values_len would search the entry again for every attribute and copy
// each value once more before it reached a QByteArray).
//
// Never a shorter entry: when the DN, an attribute's name or its values cannot be decoded, the entry
// comes back with no attributes and `unreadable` set to libldap's error (with the DN when it was read).
LdapEntry decodeEntry(LDAP *ld, LDAPMessage *message, AttributeKeys &keys)
{
    LdapEntry entry;
    BerElement *berRaw = nullptr;
    berval dn {};
    const int rc = ldap_get_dn_ber(ld, message, &berRaw, &dn);
    const BerPtr ber(berRaw);
    if (rc != LDAP_SUCCESS || !dn.bv_val) {
        entry.unreadable = QStringLiteral("the DN cannot be decoded: %1")
                               .arg(decodingError(ld, rc != LDAP_SUCCESS ? rc : LDAP_DECODING_ERROR));
        return entry;
    }
    entry.dn = QString::fromUtf8(dn.bv_val, qsizetype(dn.bv_len));
    entry.attributes.reserve(keys.count()); // as many as the last entry had names: no regrowth
    berval name {};
    berval *values = nullptr;
    int attributeRc = LDAP_SUCCESS;
    while ((attributeRc = ldap_get_attribute_ber(ld, message, ber.get(), &name, &values)) == LDAP_SUCCESS
           && name.bv_val) {
        const QString key = keys.key(name);
        auto found = std::find_if(entry.attributes.begin(), entry.attributes.end(),
                                  [&key](const LdapEntry::Attribute &a) { return a.key == key; });
        if (found == entry.attributes.end()) { // each attribute once, unless with several options
            entry.attributes.append(LdapEntry::Attribute { key, {} });
            found = entry.attributes.end() - 1;
        }
        QList<QByteArray> &target = found->values;
        if (!values)
            continue;
        qsizetype count = 0;
        while (values[count].bv_val)
            ++count;
        target.reserve(target.size() + count);
        for (const berval *v = values; v->bv_val; ++v)
            target.append(QByteArray(v->bv_val, qsizetype(v->bv_len)));
        ber_memfree(values);
        values = nullptr;
    }
    if (values)
        ber_memfree(values);
    if (attributeRc != LDAP_SUCCESS) {
        const QString after = entry.attributes.isEmpty()
            ? QStringLiteral("its first attribute")
            : QStringLiteral("the attribute after %1").arg(entry.attributes.last().key);
        entry.attributes.clear();
        entry.unreadable =
            QStringLiteral("%1 cannot be decoded: %2").arg(after, decodingError(ld, attributeRc));
    }
    return entry;
}

} // namespace

LdapEntry decodeSearchEntry(LDAP *ld, LDAPMessage *message)
{
    AttributeKeys keys;
    return decodeEntry(ld, message, keys);
}

namespace {

// The values of the attribute that `name` means (its part before any ';' option, in any case). An
// entry holds the dozen attributes asked for: comparing in place beats making the lowercase key,
// which allocated for every field of every user read.
const QList<QByteArray> *findAttribute(const QList<LdapEntry::Attribute> &attributes, const QString &name)
{
    const qsizetype option = name.indexOf(QLatin1Char(';'));
    const QStringView base = option < 0 ? QStringView(name) : QStringView(name).left(option);
    for (const LdapEntry::Attribute &attribute : attributes) // lengths first: most differ
        if (attribute.key.size() == base.size() && attribute.key.compare(base, Qt::CaseInsensitive) == 0)
            return &attribute.values;
    return nullptr;
}

} // namespace

QList<QByteArray> LdapEntry::values(const QString &name) const
{
    const QList<QByteArray> *found = findAttribute(attributes, name);
    return found ? *found : QList<QByteArray>();
}

QByteArray LdapEntry::first(const QString &name) const
{
    const QList<QByteArray> *found = findAttribute(attributes, name);
    return !found || found->isEmpty() ? QByteArray() : found->first();
}

QString LdapEntry::text(const QString &name) const
{
    return QString::fromUtf8(first(name));
}

QString LdapEntry::key(const QString &attributeName)
{
    return attributeName.section(QLatin1Char(';'), 0, 0).toLower();
}

QString ServerCertificate::describe() const
{
    return QStringLiteral("subject %1, SHA-256 %2")
        .arg(subject.isEmpty() ? QStringLiteral("(unreadable)") : subject, colonHex(sha256Hex));
}

QString errorCodeFor(int code)
{
    switch (code) {
    case LDAP_SERVER_DOWN:
    case LDAP_CONNECT_ERROR:
        return QStringLiteral("unreachable");
    case LDAP_INVALID_CREDENTIALS:
        return QStringLiteral("bad_credentials");
    case LDAP_STRONG_AUTH_REQUIRED:
    case LDAP_CONFIDENTIALITY_REQUIRED:
        return QStringLiteral("strong_auth_required");
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_UNWILLING_TO_PERFORM:
        return QStringLiteral("insufficient_rights");
    case LDAP_SIZELIMIT_EXCEEDED:
    case LDAP_TIMELIMIT_EXCEEDED:
    case LDAP_ADMINLIMIT_EXCEEDED:
        return QStringLiteral("limit");
    case LDAP_TIMEOUT:
        return QStringLiteral("timeout");
    case LDAP_NO_SUCH_OBJECT:
        return QStringLiteral("no_such_object");
    case LDAP_TYPE_OR_VALUE_EXISTS:
        return QStringLiteral("value_exists");
    case LDAP_NO_SUCH_ATTRIBUTE:
        return QStringLiteral("value_not_present");
    default:
        return QStringLiteral("ldap");
    }
}

LdapConnection::LdapConnection(const ConnectionProfile &profile, LdapPtr ld)
    : m_profile(profile)
    , m_ld(std::move(ld))
{ }

LdapConnection::~LdapConnection() = default;

Error LdapConnection::errorFromCode(int code, const QString &during) const
{
    QString message =
        QStringLiteral("%1 on %2: %3").arg(during, m_profile.url, QString::fromUtf8(ldap_err2string(code)));
    const QString diag = m_ld ? diagnostic(m_ld.get()) : QString();
    if (!diag.isEmpty())
        message += QStringLiteral(" (%1)").arg(diag);
    QString errorCode = errorCodeFor(code);
    switch (code) {
    case LDAP_SERVER_DOWN:
        // Once connected, a dropped connection is the server going away, not an unreachable host.
        errorCode = QStringLiteral("server_gone");
        message += QStringLiteral("; the server closed the connection");
        break;
    case LDAP_INVALID_CREDENTIALS:
        message += QStringLiteral("; check the bind DN/UPN and the password");
        break;
    case LDAP_STRONG_AUTH_REQUIRED:
        message += QStringLiteral("; the server refuses simple binds without TLS: use ldaps:// or StartTLS");
        break;
    case LDAP_INSUFFICIENT_ACCESS:
        message += QStringLiteral("; the account %1 lacks the rights for this").arg(m_profile.bindDn);
        break;
    case LDAP_SIZELIMIT_EXCEEDED:
    case LDAP_ADMINLIMIT_EXCEEDED:
        message += QStringLiteral("; lower the page size or ask for the account's limits to be raised");
        break;
    default:
        break;
    }
    return Error { errorCode, message };
}

Result<ServerCertificate> LdapConnection::probeServerCertificate(const ConnectionProfile &profile)
{
    if (!profile.usesTls())
        return Error { QStringLiteral("config"), QStringLiteral("%1 does not use TLS").arg(profile.url) };
    // Verification off on purpose: this connection only looks at the certificate and is closed
    // before anything, credentials included, is sent over it.
    auto ld = initialise(profile, LDAP_OPT_X_TLS_NEVER);
    if (!ld)
        return ld.error();
    if (int rc = connectTransport(ld->get(), profile); rc != LDAP_SUCCESS)
        return Error {
            QStringLiteral("unreachable"),
            QStringLiteral("cannot reach %1: %2").arg(profile.url, QString::fromUtf8(ldap_err2string(rc)))
        };
    auto cert = peerCertificate(ld->get());
    if (!cert)
        return Error { QStringLiteral("tls"),
                       QStringLiteral("%1 presented no certificate").arg(profile.url) };
    return *cert;
}

Result<std::unique_ptr<LdapConnection>> LdapConnection::open(const ConnectionProfile &profile,
                                                             const QString &password)
{
    // libldap writes to its socket without MSG_NOSIGNAL: a server that went away would kill the whole
    // process with SIGPIPE instead of giving LDAP_SERVER_DOWN. Qt installs no SIGPIPE handler itself.
    static std::once_flag ignoreSigpipe;
    std::call_once(ignoreSigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
    const QString pin = normaliseFingerprint(profile.serverCertificateSha256);
    if (!pin.isEmpty() && (pin.size() != 64 || QByteArray::fromHex(pin.toLatin1()).size() != 32))
        return Error { QStringLiteral("config"),
                       QStringLiteral(
                           "the server certificate pin must be a SHA-256 fingerprint (64 hex digits)") };
    if (!pin.isEmpty() && !profile.usesTls())
        return Error { QStringLiteral("config"),
                       QStringLiteral("a server certificate pin needs TLS (ldaps:// or StartTLS)") };
    if (profile.bind == BindMethod::Simple && password.isEmpty())
        return Error { QStringLiteral("config"),
                       QStringLiteral(
                           "no password for %1: an empty password would be an unauthenticated bind")
                           .arg(profile.bindDn) };

    // With a pin, libldap accepts any certificate and certsync checks the pin below, before binding.
    auto ld = initialise(profile, pin.isEmpty() ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_ALLOW);
    if (!ld)
        return ld.error();
    std::unique_ptr<LdapConnection> connection(new LdapConnection(profile, std::move(*ld)));
    LDAP *handle = connection->m_ld.get();

    if (int rc = connectTransport(handle, profile); rc != LDAP_SUCCESS) {
        QString diag = diagnostic(handle);
        if (diag.contains(QLatin1String("unknown error code")))
            diag.clear(); // libldap's GnuTLS back end often says no more than that
        if (profile.usesTls()) {
            // Tell a certificate problem from an unreachable host: look at what the server presents.
            if (auto presented = probeServerCertificate(profile)) {
                return Error {
                    QStringLiteral("tls"),
                    QStringLiteral("TLS to %1 failed, the server certificate is not trusted (%2)%3%4. "
                                   "Give the CA that issued it (--ca-file), or pin this exact certificate "
                                   "by its SHA-256 if you have checked it")
                        .arg(profile.url, presented->describe(),
                             profile.caFile.isEmpty() ? QString() : QStringLiteral(" by ") + profile.caFile,
                             diag.isEmpty() ? QString() : QStringLiteral(": ") + diag)
                };
            } else if (presented.error().code == QLatin1String("tls")) {
                return presented.error();
            }
        }
        return Error { QStringLiteral("unreachable"),
                       QStringLiteral("cannot reach %1: %2%3")
                           .arg(profile.url, QString::fromUtf8(ldap_err2string(rc)),
                                diag.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(diag)) };
    }
    if (profile.usesTls()) {
        connection->m_serverCertificate = peerCertificate(handle);
        if (!pin.isEmpty()) {
            if (!connection->m_serverCertificate)
                return Error {
                    QStringLiteral("tls"),
                    QStringLiteral("%1 presented no certificate to check the pin against").arg(profile.url)
                };
            if (connection->m_serverCertificate->sha256Hex != pin)
                return Error {
                    QStringLiteral("tls"),
                    QStringLiteral("the certificate of %1 (%2) is not the pinned one (SHA-256 %3); "
                                   "nothing was sent")
                        .arg(profile.url, connection->m_serverCertificate->describe(), colonHex(pin))
                };
        }
    }

    int rc = LDAP_SUCCESS;
    switch (profile.bind) {
    case BindMethod::Simple: {
        const QByteArray dn = profile.bindDn.toUtf8();
        QByteArray secret = password.toUtf8();
        berval credentials { ber_len_t(secret.size()), secret.data() };
        rc = ldap_sasl_bind_s(handle, dn.constData(), LDAP_SASL_SIMPLE, &credentials, nullptr, nullptr,
                              nullptr);
        secret.fill('\0');
        break;
    }
    case BindMethod::Gssapi:
        rc = ldap_sasl_interactive_bind_s(handle, nullptr, "GSSAPI", nullptr, nullptr, LDAP_SASL_QUIET,
                                          saslInteract, nullptr);
        if (rc == LDAP_LOCAL_ERROR || rc == LDAP_AUTH_UNKNOWN || rc == LDAP_NOT_SUPPORTED) {
            const QString diag = diagnostic(handle);
            // MIT's words for an empty or missing credential cache.
            if (diag.contains(QLatin1String("No Kerberos credentials available"), Qt::CaseInsensitive)
                || diag.contains(QLatin1String("No credentials cache found"), Qt::CaseInsensitive)
                || diag.contains(QLatin1String("No credentials were supplied"), Qt::CaseInsensitive))
                return Error { QStringLiteral("no_kerberos"),
                               QStringLiteral("Kerberos (SASL GSSAPI) bind to %1 failed: no Kerberos ticket: "
                                              "run kinit (%2)")
                                   .arg(profile.url, diag) };
            return Error { QStringLiteral("no_kerberos"),
                           QStringLiteral(
                               "Kerberos (SASL GSSAPI) bind to %1 failed: %2 (%3). Is there a ticket "
                               "(klist) for the realm, is ldap/<host of the URL> a principal of the "
                               "server, and is the GSSAPI SASL module installed?")
                               .arg(profile.url, QString::fromUtf8(ldap_err2string(rc)), diag) };
        }
        break;
    case BindMethod::Anonymous:
        break; // LDAPv3 needs no bind for anonymous access
    }
    if (rc != LDAP_SUCCESS) {
        Error error = connection->errorFromCode(rc, QStringLiteral("bind"));
        if (rc == LDAP_SERVER_DOWN)
            error.code = QStringLiteral("unreachable");
        return error;
    }
    qCDebug(lcDirectory) << "connected:" << profile.describe();
    return connection;
}

Result<SearchStats> LdapConnection::search(const SearchRequest &request, const PageSink &sink,
                                           const CancelCheck &canceled)
{
    LDAP *ld = m_ld.get();
    const QByteArray base = request.base.toUtf8();
    const QByteArray filter = request.filter.toUtf8();
    std::vector<QByteArray> attributeBytes;
    std::vector<char *> attributes;
    for (const QString &name : request.attributes)
        attributeBytes.push_back(name.toUtf8());
    for (QByteArray &name : attributeBytes)
        attributes.push_back(name.data());
    attributes.push_back(nullptr);
    const int scope = request.scope == SearchRequest::Scope::Base ? LDAP_SCOPE_BASE
        : request.scope == SearchRequest::Scope::OneLevel         ? LDAP_SCOPE_ONELEVEL
                                                                  : LDAP_SCOPE_SUBTREE;
    SearchStats stats;
    QByteArray cookie; // empty on the first page and after the last
    do {
        ControlPtr pageControl;
        if (request.pageSize > 0) {
            berval cookieValue { ber_len_t(cookie.size()), cookie.data() };
            LDAPControl *control = nullptr;
            if (int rc = ldap_create_page_control(ld, request.pageSize,
                                                  cookie.isEmpty() ? nullptr : &cookieValue, 1, &control);
                rc != LDAP_SUCCESS)
                return errorFromCode(rc, QStringLiteral("paged search"));
            pageControl.reset(control);
        }
        LDAPControl *serverControls[] = { pageControl.get(), nullptr };
        timeval timeLimit = toTimeval(m_profile.serverTimeLimitSeconds * 1000);
        int messageId = 0;
        if (int rc = ldap_search_ext(ld, base.constData(), scope, filter.constData(), attributes.data(), 0,
                                     pageControl ? serverControls : nullptr, nullptr,
                                     m_profile.serverTimeLimitSeconds > 0 ? &timeLimit : nullptr,
                                     LDAP_NO_LIMIT, &messageId);
            rc != LDAP_SUCCESS)
            return errorFromCode(rc, QStringLiteral("search"));

        QList<LdapEntry> page;
        AttributeKeys keys;
        bool pageDone = false;
        cookie.clear();
        QElapsedTimer silence;
        silence.start();
        while (!pageDone) {
            if (canceled && canceled()) {
                ldap_abandon_ext(ld, messageId, nullptr, nullptr);
                return Error { QStringLiteral("canceled"),
                               QStringLiteral("canceled after %1 entries").arg(stats.entries + page.size()) };
            }
            timeval slice = toTimeval(pollSliceMs);
            LDAPMessage *raw = nullptr;
            const int type = ldap_result(ld, messageId, LDAP_MSG_RECEIVED, &slice, &raw);
            const LdapMessagePtr received(raw);
            if (type == 0) {
                if (silence.elapsed() > m_profile.operationTimeoutMs) {
                    ldap_abandon_ext(ld, messageId, nullptr, nullptr);
                    return Error { QStringLiteral("timeout"),
                                   QStringLiteral(
                                       "%1 sent nothing for %2 s during the search (after %3 entries)")
                                       .arg(m_profile.url)
                                       .arg(m_profile.operationTimeoutMs / 1000.0)
                                       .arg(stats.entries + page.size()) };
                }
                continue;
            }
            if (type < 0) {
                Error error = errorFromCode(resultCode(ld), QStringLiteral("search"));
                error.message += QStringLiteral(" after %1 entries").arg(stats.entries + page.size());
                return error;
            }
            silence.restart();
            for (LDAPMessage *message = ldap_first_message(ld, raw); message;
                 message = ldap_next_message(ld, message)) {
                switch (ldap_msgtype(message)) {
                case LDAP_RES_SEARCH_ENTRY: {
                    LdapEntry entry = decodeEntry(ld, message, keys);
                    if (entry.unreadable.isEmpty())
                        page.append(std::move(entry));
                    else
                        stats.unreadable.append(std::move(entry));
                    break;
                }
                case LDAP_RES_SEARCH_REFERENCE:
                    ++stats.referencesSkipped; // referrals are not chased unless the profile says so
                    break;
                case LDAP_RES_SEARCH_RESULT: {
                    int code = LDAP_SUCCESS;
                    char *matched = nullptr;
                    char *text = nullptr;
                    char **referrals = nullptr;
                    LDAPControl **controls = nullptr;
                    if (int rc =
                            ldap_parse_result(ld, message, &code, &matched, &text, &referrals, &controls, 0);
                        rc != LDAP_SUCCESS)
                        return errorFromCode(rc, QStringLiteral("search"));
                    const LdapString ownedMatched(matched);
                    const LdapString ownedText(text);
                    const StringsPtr ownedReferrals(referrals);
                    const ControlsPtr ownedControls(controls);
                    if (code != LDAP_SUCCESS) {
                        Error error = errorFromCode(code, QStringLiteral("search"));
                        if (text && *text && !error.message.contains(QString::fromUtf8(text)))
                            error.message += QStringLiteral(" (%1)").arg(QString::fromUtf8(text));
                        error.message += QStringLiteral(" after %1 entries").arg(stats.entries + page.size());
                        return error;
                    }
                    if (pageControl) {
                        if (LDAPControl *response =
                                ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr)) {
                            ber_int_t estimate = 0;
                            berval next { 0, nullptr };
                            if (ldap_parse_pageresponse_control(ld, response, &estimate, &next)
                                    == LDAP_SUCCESS
                                && next.bv_val) {
                                cookie = QByteArray(next.bv_val, qsizetype(next.bv_len));
                                ldap_memfree(next.bv_val);
                            }
                        }
                    }
                    pageDone = true;
                    break;
                }
                default:
                    break;
                }
            }
        }
        stats.entries += page.size();
        ++stats.pages;
        if (sink)
            sink(std::move(page));
    } while (!cookie.isEmpty());
    return stats;
}

Result<LdapEntry> LdapConnection::readEntry(const QString &dn, const QStringList &attributes)
{
    SearchRequest request;
    request.base = dn;
    request.scope = SearchRequest::Scope::Base;
    request.attributes = attributes;
    request.pageSize = 0;
    std::optional<LdapEntry> found;
    auto stats = search(request, [&found](QList<LdapEntry> &&page) {
        if (!page.isEmpty())
            found = std::move(page.first());
    });
    if (!stats)
        return stats.error();
    if (!stats->unreadable.isEmpty())
        return Error { QStringLiteral("unreadable_entry"),
                       QStringLiteral("%1: entry %2 could not be decoded: %3")
                           .arg(m_profile.url, dn, stats->unreadable.first().unreadable) };
    if (!found)
        return Error { QStringLiteral("no_such_object"),
                       QStringLiteral("%1 has no entry %2").arg(m_profile.url, dn) };
    return *found;
}

Result<void> LdapConnection::modifyValues(const QString &dn, const QString &attribute,
                                          const QList<QByteArray> &remove, const QList<QByteArray> &add)
{
    if (remove.isEmpty() && add.isEmpty())
        return {};
    // OpenLDAP's userSMIMECertificate (binary syntax) has no equality rule: the server can neither
    // delete one value nor refuse a duplicate, so such writes take the guarded path.
    if (m_profile.kind == SourceKind::GenericLdap
        && LdapEntry::key(attribute) == LdapEntry::key(m_profile.mapping.userSmimeCertificate))
        return replaceIfUnchanged(dn, attribute, remove, add);
    const QByteArray dnBytes = dn.toUtf8();
    QByteArray name = attribute.toUtf8();
    // berval arrays borrow the QByteArrays' storage, which outlives the call.
    auto toBervals = [](const QList<QByteArray> &values, std::vector<berval> &storage,
                        std::vector<berval *> &pointers) {
        storage.reserve(values.size());
        for (const QByteArray &value : values)
            storage.push_back(berval { ber_len_t(value.size()), const_cast<char *>(value.constData()) });
        for (berval &v : storage)
            pointers.push_back(&v);
        pointers.push_back(nullptr);
    };
    std::vector<berval> removeStorage, addStorage;
    std::vector<berval *> removePointers, addPointers;
    toBervals(remove, removeStorage, removePointers);
    toBervals(add, addStorage, addPointers);
    LDAPMod removeMod {};
    removeMod.mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES;
    removeMod.mod_type = name.data();
    removeMod.mod_vals.modv_bvals = removePointers.data();
    LDAPMod addMod {};
    addMod.mod_op = LDAP_MOD_ADD | LDAP_MOD_BVALUES;
    addMod.mod_type = name.data();
    addMod.mod_vals.modv_bvals = addPointers.data();
    std::vector<LDAPMod *> mods;
    if (!remove.isEmpty())
        mods.push_back(&removeMod);
    if (!add.isEmpty())
        mods.push_back(&addMod);
    mods.push_back(nullptr);
    // One modify operation: the server applies both halves or neither.
    int rc = ldap_modify_ext_s(m_ld.get(), dnBytes.constData(), mods.data(), nullptr, nullptr);
    if (rc == LDAP_INAPPROPRIATE_MATCHING)
        return replaceIfUnchanged(dn, attribute, remove, add);
    if (rc != LDAP_SUCCESS) {
        Error error = errorFromCode(rc, QStringLiteral("modify of %1 %2").arg(attribute, dn));
        if (rc == LDAP_NO_SUCH_ATTRIBUTE)
            error.message += QStringLiteral("; a value to remove is not there (changed since it was read?)");
        else if (rc == LDAP_TYPE_OR_VALUE_EXISTS)
            error.message += QStringLiteral("; a value to add is already there");
        return error;
    }
    qCDebug(lcDirectory) << "modified" << attribute << "of" << dn << "removed" << remove.size() << "added"
                         << add.size();
    return {};
}

Result<void> LdapConnection::replaceIfUnchanged(const QString &dn, const QString &attribute,
                                                const QList<QByteArray> &remove, const QList<QByteArray> &add)
{
    // Without an equality rule values cannot be deleted one by one. Write the whole new set, but only if the
    // entry is exactly as just read: the assertion control (RFC 4528) on entryCSN makes the server refuse the
    // write if anybody changed the entry since.
    auto current = readEntry(dn, { attribute, QStringLiteral("entryCSN") });
    if (!current)
        return current.error();
    const QString csn = current->text(QStringLiteral("entryCSN"));
    if (csn.isEmpty())
        return Error { QStringLiteral("ldap"),
                       QStringLiteral(
                           "%1 cannot delete single values of %2 and has no entryCSN to guard a replace with")
                           .arg(m_profile.url, attribute) };
    QList<QByteArray> values = current->values(attribute);
    for (const QByteArray &value : remove) {
        if (!values.removeOne(value))
            return Error { QStringLiteral("value_not_present"),
                           QStringLiteral(
                               "modify of %1 %2: a value to remove is not there (changed since it was read?)")
                               .arg(attribute, dn) };
    }
    for (const QByteArray &value : add) {
        if (values.contains(value))
            return Error {
                QStringLiteral("value_exists"),
                QStringLiteral("modify of %1 %2: a value to add is already there").arg(attribute, dn)
            };
        values.append(value);
    }
    const QByteArray assertion = QStringLiteral("(entryCSN=%1)").arg(csn).toUtf8();
    LDAPControl *control = nullptr;
    if (int rc =
            ldap_create_assertion_control(m_ld.get(), const_cast<char *>(assertion.constData()), 1, &control);
        rc != LDAP_SUCCESS)
        return errorFromCode(rc, QStringLiteral("assertion control"));
    const ControlPtr ownedControl(control);
    LDAPControl *controls[] = { control, nullptr };
    const QByteArray dnBytes = dn.toUtf8();
    QByteArray name = attribute.toUtf8();
    std::vector<berval> storage;
    std::vector<berval *> pointers;
    storage.reserve(values.size());
    for (const QByteArray &value : values)
        storage.push_back(berval { ber_len_t(value.size()), const_cast<char *>(value.constData()) });
    for (berval &v : storage)
        pointers.push_back(&v);
    pointers.push_back(nullptr);
    LDAPMod replace {};
    // Replacing with nothing would be refused for want of an equality rule: delete the attribute.
    replace.mod_op = (values.isEmpty() ? LDAP_MOD_DELETE : LDAP_MOD_REPLACE) | LDAP_MOD_BVALUES;
    replace.mod_type = name.data();
    replace.mod_vals.modv_bvals = values.isEmpty() ? nullptr : pointers.data();
    LDAPMod *mods[] = { &replace, nullptr };
    if (int rc = ldap_modify_ext_s(m_ld.get(), dnBytes.constData(), mods, controls, nullptr);
        rc != LDAP_SUCCESS) {
        Error error = errorFromCode(rc, QStringLiteral("guarded modify of %1 %2").arg(attribute, dn));
        if (rc == LDAP_ASSERTION_FAILED) {
            error.code = QStringLiteral("changed_meanwhile");
            error.message +=
                QStringLiteral("; the entry changed since it was read, nothing was written: read again");
        }
        return error;
    }
    qCDebug(lcDirectory) << "replaced" << attribute << "of" << dn << "guarded by entryCSN";
    return {};
}

} // namespace certsync::directory
