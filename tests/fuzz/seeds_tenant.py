#!/usr/bin/env python3
# Writes corpus/tenant: for each operation of fuzz_tenant.cpp, answers in the shapes the tenant
# simulator (tests/tenantsim) and Microsoft 365 send. Run from tests/fuzz.
import base64, json, os

here = os.path.dirname(os.path.abspath(__file__))
leaf = open(os.path.join(here, 'corpus', 'values', 'seed-ec-leaf.der'), 'rb').read()
p7b = open(os.path.join(here, 'corpus', 'values', 'seed-outlook.p7b'), 'rb').read()
GRAPH = 'https://graph.fuzz.invalid/v1.0'
EXO = 'https://outlook.fuzz.invalid/adminapi/beta/fuzz-tenant'

def answer(status, body, headers=None):
    lines = [str(status)] + ['%s: %s' % kv for kv in (headers or {}).items()]
    text = body if isinstance(body, str) else json.dumps(body, separators=(',', ':'))
    return ('\n'.join(lines) + '\n\n' + text).encode()

token = answer(200, {'token_type': 'Bearer', 'expires_in': 3599, 'ext_expires_in': 3599,
                     'access_token': 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJncmFwaCJ9.c2ln'},
               {'Content-Type': 'application/json; charset=utf-8'})
aad_error = answer(401, {'error': 'invalid_client', 'error_description': 'AADSTS7000215: Invalid client secret provided.',
                         'error_codes': [7000215], 'timestamp': '2026-12-02 05:00:00Z',
                         'trace_id': '0a1b2c3d-0000-0000-0000-000000000000',
                         'correlation_id': '9f8e7d6c-0000-0000-0000-000000000000'})
user = {'id': '5d2c8a4e-0000-0000-0000-000000000001', 'userPrincipalName': 'alice@example.test',
        'displayName': 'Alice Example', 'mail': 'alice@example.test',
        'proxyAddresses': ['SMTP:alice@example.test', 'smtp:a.example@example.test'],
        'onPremisesImmutableId': 'AAECAwQFBgcICQoLDA0ODw==', 'onPremisesSyncEnabled': True,
        'accountEnabled': True, 'authorizationInfo': {'certificateUserIds': ['X509:<PN>alice@example.test']}}
cloud = dict(user, id='5d2c8a4e-0000-0000-0000-000000000002', userPrincipalName='bob@example.test',
             onPremisesSyncEnabled=None, onPremisesImmutableId=None)
rid = {'request-id': '1c2d3e4f-0000-0000-0000-000000000000', 'client-request-id': 'aaaa', 'Content-Type': 'application/json'}
graph_error = lambda status, code, message: answer(status, {'error': {'code': code, 'message': message,
    'innerError': {'date': '2026-12-02T05:00:00', 'request-id': '1c2d3e4f-0000-0000-0000-000000000000',
                   'client-request-id': 'aaaa'}}}, rid)
def exo_error(status, exception, message):
    full = '|%s|%s' % (exception, message)
    return answer(status, {'error': {'code': 'BadRequest', 'message': full,
        'details': [{'code': 'Context', 'target': '', 'message': 'Ex1C2D3E|' + full}],
        'innererror': {'message': full, 'type': exception,
                       '@Microsoft.PowerShell.Cmdlets.ErrorCategory': 'NotSpecified'}}}, rid)
recipient = {'ExternalDirectoryObjectId': user['id'], 'Identity': 'Alice Example', 'Name': 'Alice Example',
             'DisplayName': 'Alice Example', 'UserPrincipalName': 'alice@example.test',
             'PrimarySmtpAddress': 'alice@example.test', 'RecipientTypeDetails': 'UserMailbox',
             'IsDirSynced': False, 'EmailAddresses': ['SMTP:alice@example.test'],
             'UserCertificate': [base64.b64encode(leaf).decode()],
             'UserSMimeCertificate': [base64.b64encode(p7b).decode()]}

seeds = {
    'users-pages': (0, [token,
        answer(200, {'@odata.context': GRAPH + '/$metadata#users', 'value': [user],
                     '@odata.nextLink': GRAPH + '/users?$skiptoken=X1'}, rid),
        answer(429, '', {'Retry-After': '0'}),
        answer(200, {'value': [cloud]}, rid)]),
    'users-foreign-link': (0, [token, answer(200, {'value': [], '@odata.nextLink': 'https://evil.invalid/v1.0/users'})]),
    'token-refused': (0, [aad_error]),
    'token-unreadable': (0, [answer(200, '{"access_token":"x","expires_in":"3599"}')]),
    'delta-initial': (1, [token,
        answer(200, {'value': [user, {'id': 'gone', '@removed': {'reason': 'deleted'}}],
                     '@odata.nextLink': GRAPH + '/users/delta?$skiptoken=D1'}, rid),
        answer(200, {'value': [], '@odata.deltaLink': GRAPH + '/users/delta?$deltatoken=D2'}, rid)]),
    'delta-expired': (2, [token, graph_error(410, 'syncStateNotFound', 'The delta token has expired.')]),
    'delta-latest': (3, [token, answer(200, {'value': [], '@odata.deltaLink': GRAPH + '/users/delta?$deltatoken=L'})]),
    'get-user-404': (4, [token, graph_error(404, 'Request_ResourceNotFound', "Resource 'x' does not exist.")]),
    'get-user': (4, [token, answer(200, user, rid)]),
    'patch-lost-then-read': (5, [token, b'0\n\n', answer(200, user, rid)]),
    'patch-401-then-ok': (5, [token, graph_error(401, 'InvalidAuthenticationToken', 'Access token has expired.'),
                              token, answer(204, '', rid)]),
    'batch-mixed': (6, [token, answer(200, {'responses': [
        {'id': '1', 'status': 204, 'headers': {}, 'body': {}},
        {'id': '2', 'status': 429, 'headers': {'Retry-After': '0'}, 'body': {'error': {'code': 'TooManyRequests', 'message': 'Too many requests'}}},
        {'id': '3', 'status': 400, 'body': {'error': {'code': 'Request_BadRequest', 'message': 'Invalid value'}}}]}, rid),
        answer(200, {'responses': [{'id': '2', 'status': 204}]}, rid)]),
    'batch-get': (7, [token, answer(200, {'responses': [{'id': '1', 'status': 200, 'body': user},
                                                         {'id': '2', 'status': 404, 'body': {'error': {'code': 'Request_ResourceNotFound', 'message': 'x'}}}]})]),
    'batch-503': (7, [token, answer(503, '', {'Retry-After': 'Wed, 02 Dec 2026 05:00:00 GMT'})]),
    'exchange-list': (8, [token, answer(200, {'@odata.context': EXO + '/$metadata#Collection', 'value': [recipient],
                                              '@odata.nextLink': EXO + '/InvokeCommand?$skiptoken=E1'}),
                          answer(200, {'value': [dict(recipient, RecipientTypeDetails='MailUser', UserCertificate=[list(leaf[:8])])]}),
                          ]),
    'exchange-throttled': (8, [token, exo_error(429, 'Microsoft.Exchange.Admin.OData.Core.ThrottlingException', 'Too many concurrent requests')]),
    'exchange-get': (9, [token, answer(200, {'value': [recipient]}), answer(200, {'value': [recipient]})]),
    'exchange-not-found': (9, [token, exo_error(404, 'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
                                                "The operation couldn't be performed because object 'x' couldn't be found.")]),
    'exchange-set-synced': (10, [token, exo_error(400, 'Microsoft.Exchange.Management.Tasks.RecipientTaskException',
        "The action 'Set-Mailbox', 'UserCertificate', can't be performed on the object 'Alice' because the object is being synchronized from your on-premises organization."),
        answer(200, {'value': [recipient]}), answer(200, {'value': [dict(recipient, IsDirSynced=True)]})]),
    'exchange-set-ok': (10, [token, answer(200, {'value': [], '@adminapi.warnings': ['The command completed successfully but no settings were modified.']}, rid)]),
}
out = os.path.join(here, 'corpus', 'tenant')
os.makedirs(out, exist_ok=True)
for name, (op, answers) in seeds.items():
    with open(os.path.join(out, 'seed-' + name), 'wb') as f:
        f.write(bytes([ord('0') + op if op < 10 else ord('0') + op]) + b'\0'.join(answers))
