#pragma once

// Exchange Online's admin endpoint (the REST form the Exchange Online module uses): InvokeCommand
// with Get-Recipient/Get-Mailbox/Get-MailUser to read, Set-Mailbox/Set-MailUser to write the
// UserCertificate and UserSMimeCertificate values of cloud-mastered recipients.

#include "tenant/GraphClient.h"
#include "tenant/TenantHttp.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QObject>
#include <QPointer>

#include <functional>
#include <optional>

namespace certsync::tenant {

struct ExchangeRecipient
{
    QString externalDirectoryObjectId; // the Entra object id: joins with GraphUser::id
    QString identity;
    QString userPrincipalName;
    QString primarySmtpAddress;
    QString recipientTypeDetails; // "UserMailbox", "MailUser", ...
    bool isDirSynced = false;
    // IsExchangeCloudManaged: a synced recipient whose Exchange attributes are mastered in Exchange
    // Online (Set-Mailbox -IsExchangeCloudManaged). nullopt: the answer does not carry the property.
    std::optional<bool> isExchangeCloudManaged;
    QList<QByteArray> userCertificate; // DER
    QList<QByteArray> userSMimeCertificate; // DER PKCS#7 (or a bare certificate)

    static ExchangeRecipient fromJson(const QJsonObject &o, ByteArrayEncoding encoding);
};

struct RecipientCertificateChange
{
    QString identity; // UPN, primary SMTP address or ExternalDirectoryObjectId
    QString recipientTypeDetails; // picks Set-Mailbox or Set-MailUser
    std::optional<QList<QByteArray>> userCertificate; // the list afterwards, when set
    std::optional<QList<QByteArray>> userSMimeCertificate;
    // What the recipient held when read just before (compare-and-set): with these, and the setting
    // MultiValuedUpdate::AddRemove, only the difference is sent (Add/Remove), so a value someone
    // else added between the read and the write is kept. Without them the list is replaced.
    std::optional<QList<QByteArray>> userCertificateBefore;
    std::optional<QList<QByteArray>> userSMimeCertificateBefore;
    // The recipient's IsDirSynced as last read, when known: a refusal is then explained without
    // another read.
    std::optional<bool> isDirSynced;
};

// The one place that knows how byte arrays travel in InvokeCommand JSON.
QJsonValue encodeByteArrays(const QList<QByteArray> &values, ByteArrayEncoding encoding);
std::optional<QList<QByteArray>> decodeByteArrays(const QJsonValue &value);
// One byte[] (not a list), as Get-SmimeConfig returns SMIMECertificateIssuingCA: a base64 string or
// an integer array; null gives an empty array.
std::optional<QByteArray> decodeByteArray(const QJsonValue &value);

class ExchangeClient : public QObject
{
    Q_OBJECT
public:
    explicit ExchangeClient(TenantHttp *http, QObject *parent = nullptr);

    // Runs a cmdlet; the `value` rows of every page. Writes are never resent after a lost answer.
    void invoke(const QString &cmdlet, const QJsonObject &parameters, bool isWrite,
                std::function<bool(int)> onPage, std::function<void(TenantResult<QList<QJsonObject>>)> done);

    // "Get-Mailbox" or "Get-MailUser" over the whole organisation.
    void listRecipients(const QString &getCmdlet, std::function<bool(int)> onPage,
                        std::function<void(TenantResult<QList<ExchangeRecipient>>)> done);
    // Get-Recipient, then Get-Mailbox/Get-MailUser as its type says: one recipient with certificates.
    void getRecipient(const QString &identity, std::function<void(TenantResult<ExchangeRecipient>)> done);
    // One request: Get-Mailbox or Get-MailUser (as `recipientTypeDetails` says) for one recipient.
    void getCertificates(const QString &identity, const QString &recipientTypeDetails,
                         std::function<void(TenantResult<ExchangeRecipient>)> done);

    // Get-SmimeConfig's SMIMECertificateIssuingCA: the tenant's S/MIME CA collection as a serialized
    // certificate store (certs::decodeSerializedStore); empty when none was uploaded.
    void getSmimeIssuingCa(std::function<void(TenantResult<QByteArray>)> done);
    // Set-SmimeConfig -SMIMECertificateIssuingCA: the whole collection as one serialized store (the
    // cmdlet replaces it). Not sent again after a lost answer: the publisher's journal resolves that
    // by reading Get-SmimeConfig on its next run.
    void setSmimeIssuingCa(const QByteArray &store, std::function<void(TenantResult<WriteReceipt>)> done);
    // Set-Mailbox/Set-MailUser. A refusal because the object is synchronised from on-premises
    // arrives as code errc::SyncedObject: a RecipientTaskException on a recipient whose IsDirSynced
    // is true (read after the refusal when the change does not say). A lost answer leads to a read, and a
    // second write only if the values are not in place.
    void setCertificates(const RecipientCertificateChange &change,
                         std::function<void(TenantResult<WriteReceipt>)> done);

private:
    void invokePage(const QUrl &url, const QByteArray &body, bool isWrite, std::function<bool(int)> onPage,
                    QList<QJsonObject> soFar, std::function<void(TenantResult<QList<QJsonObject>>)> done,
                    const QString &what);
    void setAttempt(const RecipientCertificateChange &change, int writes,
                    std::function<void(TenantResult<WriteReceipt>)> done);
    void confirmSyncedRefusal(const RecipientCertificateChange &change, TenantError refusal,
                              std::function<void(TenantResult<WriteReceipt>)> done);

    QPointer<TenantHttp> m_http;
};

} // namespace certsync::tenant
