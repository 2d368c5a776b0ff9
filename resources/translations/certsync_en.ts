<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>certsync</name>
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
    <message>
        <source>staged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>publishing</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>published</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>partial</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rejected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>pending</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>approved</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not published</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>in flight</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>applied</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>failed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>exchange</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>trusted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>incomplete</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>untrusted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>revoked</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>invalid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>debug</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>info</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>warning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>error</source>
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
    <message>
        <source>The Microsoft 365 simulator did not start (exit code %1): %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Starting the Microsoft 365 simulator (certsync-tenantsim)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The Microsoft 365 simulator said: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Microsoft 365 simulator listening on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The demo could not read the Microsoft 365 simulator: see the Log.</source>
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
        <source>No directory is configured. Start with --demo to try the built-in one.</source>
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
    <message>
        <source>source anchor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ms-DS-ConsistencyGuid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UPN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>mail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the users and their certificates from the directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read &amp;Microsoft 365</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the users and their published certificates from Microsoft 365</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Diff</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Compare the directory with Microsoft 365 and stage a plan of changes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A job is already running: wait for it or cancel it first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 needs Microsoft 365, which is not configured: set the tenant (tenant id, client id, secret or certificate) in Edit → Settings.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>directory read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reading Microsoft 365</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Microsoft 365 read stopped: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tenant read</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>match users</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The diff</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the directory first: the diff compares it with Microsoft 365.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read Microsoft 365 first: the diff compares the directory with it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>stage plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>canceled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>the diff did not finish</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Diff stopped: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>diff</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan %1 staged: %2 item(s) (%3 Exchange, %4 Graph, %5 directory), %6 value(s) removed, %7 added; %8 user(s) matched, %9 warning(s). Review and approve it under Staged changes.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan %1 was not published: %2. Review the plan; tick the override under Staged changes to publish it anyway (recorded in the audit trail).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Publishing plan %1 failed: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Staging mode: plan %1 was checked, nothing was published. %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan %1 published in part: %2 See the Log for each failure.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Plan %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Publishing plan %1 stopped: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>publish</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pairing the directory with Microsoft 365…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No Microsoft 365 user matches this directory user.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1, matched by %2 (%3).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>synced: Entra Connect carries its certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cloud-mastered: certsync publishes to it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>analyse user</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>It has no Exchange recipient: nothing is published.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ctrl+,</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Inventory…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Expiring certificates…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Problems…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Current &amp;plan…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Audit trail…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export report</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose a plan in Staged changes first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Read the directory first: the %1 report is made from it.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1. Secrets typed here are kept for this session only.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings saved to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The S/MIME trust settings cannot be used: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>certsync::ui::SettingsDialog</name>
    <message>
        <source>kept in the OS keychain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>one file per line</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings sections</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>S/MIME &amp;trust</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Tenant</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Policy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Notice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dialog buttons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Choose %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Directory kind</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Active Directory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OpenLDAP (generic LDAP)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Kind:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Directory URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ldaps://dc1.example.com or ldap://dc1.example.com (StartTLS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use StartTLS on ldap:// URLs (turn off only for a loopback test server)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Use StartTLS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Base DN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DC=example,DC=com</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Base DN:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search filter</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Filter:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bind method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Simple bind (DN or UPN and password, over TLS)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kerberos (SASL GSSAPI, the current ticket)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Anonymous</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>B&amp;ind:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bind DN or UPN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bind &amp;DN or UPN:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bind password</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LDAP server CA file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Server &amp;CA file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trust this server certificate (SHA-256)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SHA-256 of the server certificate, hex (colons allowed)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Trust this server certificate:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>For a server whose certificate no CA file vouches for: certsync then trusts exactly the certificate with this SHA-256 fingerprint, and no other. &quot;Test connection&quot; shows the fingerprint a server presents; compare it with the server&apos;s own before pasting it here. TLS verification is never turned off.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connect timeout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>C&amp;onnect timeout:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operation timeout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Operation ti&amp;meout:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Page size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pa&amp;ge size:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attribute mapping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attribute for %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test &amp;connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test the directory connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Directory test result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Directory settings</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The certificates that S/MIME chains are verified against, and the CRLs that say which are revoked. PEM or DER files.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mixed PEM bundles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mixed &amp;bundles:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trust anchors</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Anchors (root CAs):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Intermediate CAs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Intermediates:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CRL files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;CRLs:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Also trust the system&apos;s CA bundle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trust the system CA bundle</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tenant id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>contoso.onmicrosoft.com or the tenant&apos;s GUID</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Tenant id:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Application (client) id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Application (client) id:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Credential</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificate (recommended)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Client secret</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Credential:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Client &amp;secret:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Certificate file (PEM)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ce&amp;rtificate (PEM):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Private key file (PEM)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Private &amp;key (PEM):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Private key passphrase</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Key &amp;passphrase:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Authority URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A&amp;uthority URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Microsoft Graph URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Graph URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exchange Online admin API URL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E&amp;xchange URL:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>{tenant} in a URL is replaced by the tenant id.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Extra CA file for the tenant&apos;s TLS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Extra C&amp;A file:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test c&amp;onnection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Test the tenant connection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tenant test result</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expiry warning window</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> days</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Warn of expiry within:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not publish expired certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop expired certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Do not publish revoked certificates (where a CRL says so)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Drop revoked certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only certificates suitable for S/MIME (extended and key usage)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Only S/MIME suitable certificates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Values per attribute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Values per attribute (cap):</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>certificateUserIds channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Not managed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Issuer and serial number</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subject key identifier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Both</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;certificateUserIds:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match users by ms-DS-ConsistencyGuid instead of objectGUID</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Match by ms-DS-ConsistencyGuid</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Deletion threshold</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> values</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Deletion threshold:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A publish that would remove more values than this is refused unless overridden explicitly (the override is audited).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Staging mode: compute and stage plans, never publish</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Staging mode</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Success: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>enter the directory&apos;s URL first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Connecting to %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>enter the tenant id first.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Asking %1 for a token…</source>
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
    <message>
        <source>No state database is set.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>read plans</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The state database cannot be read: %1</source>
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
