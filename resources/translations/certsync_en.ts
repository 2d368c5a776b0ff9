<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>certsync</name>
    <message>
        <source>userSMIMECertificate holds no usable certificate, yet Outlook may still read it before the usable one in userCertificate. Remove or replace the stale userSMIMECertificate value.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outlook will encrypt to the certificate in userSMIMECertificate (valid until %1), not to the newer one in userCertificate (valid until %2). Republish userSMIMECertificate.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Error</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unmatched</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>synced</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cloud</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::models::CertificateTreeModel</name>
    <message>
        <source>%1 (1 value)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2 values)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#%1 %2: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> · only here</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>leaf</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>root (trust anchor)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expires</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SHA-256</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::models::LogModel</name>
    <message>
        <source>Time</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Level</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HTTP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Request id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Time: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Level: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Job: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Channel: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Message: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HTTP status: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Request id: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Client request id: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::models::PlanItemsModel</name>
    <message>
        <source>−%1 +%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2 attempts)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attribute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Change</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Soonest expiry after</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decision</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>By</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Publish state</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::models::PlansModel</name>
    <message>
        <source>Plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Created</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Items</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Applied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Removed values</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::models::UsersModel</name>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UPN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Soonest expiry</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Microsoft 365</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::AboutDialog</name>
    <message>
        <source>About certsync</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>certsync %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Keeps users&apos; S/MIME certificates in sync between an on-premises directory (Active Directory or OpenLDAP) and Microsoft 365.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Libraries in use:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Copy versions</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About certsync</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::CertificatePane</name>
    <message>
        <source>Copy SHA-256</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save as…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificates in the directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificates published in Microsoft 365</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>In the directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Published in Microsoft 365</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificate details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a user to see their certificates.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Select a certificate to see its details.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Issuer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Serial</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Valid from</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Valid until</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E-mail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UPN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Signature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key usage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(any)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Extended key usage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Basic constraints</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>end entity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SHA-256</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SHA-1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject key id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Authority key id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CA issuers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CRL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save certificate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DER certificate (*.cer);;PEM certificate (*.pem)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::DashboardPane</name>
    <message>
        <source>Certificates expiring in the next 12 months</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>What blocks synchronisation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;No directory read yet&lt;/h2&gt;&lt;p&gt;Read the directory (F5) to see its users and certificates.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing known yet.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h2&gt;%1 users, %2 certificates&lt;/h2&gt;&lt;p&gt;%3 &amp;nbsp; %4 &amp;nbsp; %5&lt;/p&gt;&lt;p&gt;Read %6 from %7&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Users with more than 15 values in an attribute, which Entra Connect stops exporting: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unreadable values in the directory: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nothing blocks synchronisation in the directory.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::DemoLauncher</name>
    <message>
        <source>demo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting the demo directory (OpenLDAP with %1 seeded users) in %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The demo directory did not start: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::ExpiryChart</name>
    <message>
        <source>Certificates expiring per month</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::JobStatus</name>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel the running job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::LogPane</name>
    <message>
        <source>Errors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warnings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Info</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Debug</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Job</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All jobs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter messages, users, request ids…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Filter log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log records</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log record details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::MainWindow</name>
    <message>
        <source>certsync</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Dashboard</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Users</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Staged changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Read directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Find user</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Main</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The state database cannot be opened: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan %1 is approved. Publish it with: certsync publish %1 (the console&apos;s tenant settings are not available yet).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No directory is configured. Start with --demo to try the built-in one.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A job is already running.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Directory read stopped: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The last directory read is incomplete (%1). Showing what was read before it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Microsoft 365 has not been read yet.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::StagedPane</name>
    <message>
        <source>&amp;Publish approved…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Staged plans</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Items of the plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Approve selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Reject selected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Approve all &amp;shown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Comment for the audit trail (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Decision comment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>⚠ This plan removes %1 values, more than the deletion threshold of %2. Entra Connect would stop here too. Publishing needs an explicit override, recorded in the audit trail.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Allow %1 deletions in this publish</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Newer directory or tenant data has been read since this plan was made: publishing re-checks every item against its target first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tick the items to decide on first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) approved.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) rejected.</source>
        <translation type="unfinished">
            <numerusform></numerusform>
            <numerusform></numerusform>
        </translation>
    </message>
    <message>
        <source>Nothing approved to publish in plan %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The plan is over the deletion threshold: tick the override to publish it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2 item(s)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Publish plan %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Publish %1 approved item(s)?

%2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::UsersPane</name>
    <message>
        <source>Search name, UPN, mail or fingerprint…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search users</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show users with status %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Directory users</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 users</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
