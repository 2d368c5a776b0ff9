#include "certs/CertificateJudge.h"

namespace certsync::certs {

QStringList UserContext::smtpAddresses() const
{
    QStringList out;
    auto add = [&out](const QString &address) {
        const QString lower = address.trimmed().toLower();
        if (!lower.isEmpty() && !out.contains(lower))
            out.append(lower);
    };
    add(mail);
    for (const QString &proxy : proxyAddresses)
        if (proxy.startsWith(QLatin1String("smtp:"), Qt::CaseInsensitive))
            add(proxy.mid(5));
    return out;
}

ProblemSet CertificateJudge::judgeTime(const Certificate &cert, const QDateTime &now) const
{
    ProblemSet problems;
    if (cert.notAfter.isValid() && now > cert.notAfter)
        problems.add(Problem::Expired);
    else if (cert.notBefore.isValid() && now < cert.notBefore)
        problems.add(Problem::NotYetValid);
    else if (cert.notAfter.isValid() && now.addDays(m_policy.warningDays) > cert.notAfter)
        problems.add(Problem::ExpiringSoon);
    return problems;
}

ProblemSet CertificateJudge::judgeTimeless(const Certificate &cert, const ChainResult &chain,
                                           const UserContext &user) const
{
    ProblemSet problems;
    if (!cert.hasEmailProtection())
        problems.add(Problem::NoEmailProtection);

    if (cert.hasKeyUsage) {
        // Signing needs digitalSignature; encrypting needs keyEncipherment for RSA keys and
        // keyAgreement for EC keys (ECDH). Other key types can only sign.
        quint16 needed = DigitalSignature;
        if (cert.keyType == KeyType::Rsa)
            needed |= KeyEncipherment;
        else if (cert.keyType == KeyType::Ec)
            needed |= KeyAgreement;
        if ((cert.keyUsage & needed) != needed)
            problems.add(Problem::KeyUsage);
    }

    const QStringList emails = cert.emails();
    if (emails.isEmpty()) {
        problems.add(Problem::NoEmail);
    } else {
        const QStringList addresses = user.smtpAddresses();
        const bool matches = addresses.isEmpty()
            || std::any_of(emails.cbegin(), emails.cend(),
                           [&](const QString &email) { return addresses.contains(email); });
        if (!matches)
            problems.add(Problem::EmailMismatch);
    }

    const bool rsaLike = cert.keyType == KeyType::Rsa || cert.keyType == KeyType::Dsa;
    if ((rsaLike && cert.keyBits < m_policy.minRsaBits)
        || (cert.keyType == KeyType::Ec && cert.keyBits < m_policy.minEcBits))
        problems.add(Problem::WeakKey);

    const QString digest = cert.signatureDigest.toUpper();
    if (digest == QLatin1String("SHA1") || digest == QLatin1String("MD5") || digest == QLatin1String("MD4")
        || digest == QLatin1String("MD2"))
        problems.add(Problem::WeakSignature);

    if (cert.selfSigned)
        problems.add(Problem::SelfSigned);

    switch (chain.status) {
    case ChainStatus::Trusted:
        break;
    case ChainStatus::Revoked:
        problems.add(Problem::Revoked);
        break;
    case ChainStatus::Incomplete:
        if (m_policy.requireTrust)
            problems.add(Problem::ChainIncomplete);
        break;
    case ChainStatus::Untrusted:
    case ChainStatus::Invalid:
        if (m_policy.requireTrust)
            problems.add(Problem::Untrusted);
        break;
    }
    return problems;
}

ProblemSet CertificateJudge::judge(const Certificate &cert, const ChainResult &chain, const UserContext &user,
                                   const QDateTime &now) const
{
    return ProblemSet::fromBits(judgeTimeless(cert, chain, user).bits() | judgeTime(cert, now).bits());
}

} // namespace certsync::certs
