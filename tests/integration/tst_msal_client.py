#!/usr/bin/python3
# The tenant simulator against a client that is neither certsync nor written in this project:
# Microsoft's own MSAL for Python (Debian's python3-msal 1.21), acquiring app-only tokens the way a
# new user would (ConfidentialClientApplication.acquire_token_for_client) with a client secret and
# with a certificate (private key + SHA-1 thumbprint, with and without the x5c chain). Entra ID
# accepts what MSAL sends; so must the simulator. And it refuses what Entra refuses: a wrong
# secret, an assertion signed by another key, an assertion whose claims were altered after signing.
# TLS is verified against the CA the simulator writes (requests' verify=), never turned off.
#
# Run by ctest with CERTSYNC_TENANTSIM naming the simulator binary.
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

try:
    import msal
    from msal.oauth2cli.assertion import JwtAssertionCreator
    import requests
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID
except ImportError as e:  # a failure, not a skip: the dependency is part of the test setup
    sys.exit('tst_msal_client: %s (Debian: apt-get install python3-msal; packaging/install-deps.sh)' % e)

TENANT = '7d0c1e2f-3a4b-4c5d-8e9f-0a1b2c3d4e5f'
CLIENT = '2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901'
SECRET = 'msal-suite-secret'
GRAPH_SCOPE = ['https://graph.microsoft.com/.default']


def make_certificate(name):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    import datetime
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    der = cert.public_bytes(serialization.Encoding.DER)
    return {'key': key_pem, 'der': der, 'pem': cert.public_bytes(serialization.Encoding.PEM).decode(),
            'thumbprint': hashlib.sha1(der).hexdigest().upper()}


class Simulator:
    def __init__(self, binary, seed):
        self.dir = tempfile.TemporaryDirectory(prefix='tst_msal_client-')
        path = lambda name: os.path.join(self.dir.name, name)
        with open(path('seed.json'), 'w') as f:
            json.dump(seed, f)
        self.ca_file = path('ca.pem')
        self.process = subprocess.Popen(
            [binary, '--seed', path('seed.json'), '--state', path('state.json'), '--ca-out', self.ca_file,
             '--access-log', path('access.log')], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.search(r'listening (https://127\.0\.0\.1:\d+) admin', line)
        if not match:
            self.stop()
            raise RuntimeError('the simulator did not come up: %r' % line)
        self.base = match.group(1)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.dir.cleanup()


class TestMsalClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.registered = make_certificate('msal suite app certificate')
        cls.other = make_certificate('a key the app does not have')
        seed = {'tenantId': TENANT, 'users': [],
                'apps': [{'clientId': CLIENT, 'secretSha256': hashlib.sha256(SECRET.encode()).hexdigest(),
                          'certificates': [base64.b64encode(cls.registered['der']).decode()]}]}
        cls.sim = Simulator(os.environ['CERTSYNC_TENANTSIM'], seed)
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment win over a session's
        # verify= (which is how MSAL passes it on): both name the simulator's CA, verification stays on.
        for name in ('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'):
            os.environ[name] = cls.sim.ca_file

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def app(self, credential):
        # A loopback authority is not one Microsoft knows: validate_authority=False skips the instance
        # discovery at login.microsoftonline.com; MSAL still reads the simulator's OpenID configuration
        # (/{tenant}/v2.0/.well-known/openid-configuration) for the token endpoint.
        return msal.ConfidentialClientApplication(
            CLIENT, client_credential=credential, authority='%s/%s' % (self.sim.base, TENANT),
            validate_authority=False, verify=self.sim.ca_file)

    def assertToken(self, result):
        self.assertIn('access_token', result, result)
        self.assertEqual(result.get('token_type'), 'Bearer')
        # The token is one the simulator's Graph takes.
        answer = requests.get(self.sim.base + '/v1.0/users?$top=1', verify=self.sim.ca_file,
                              headers={'Authorization': 'Bearer ' + result['access_token']})
        self.assertEqual(answer.status_code, 200, answer.text)

    def assertRefused(self, result, code):
        self.assertNotIn('access_token', result, result)
        self.assertEqual(result.get('error'), 'invalid_client', result)
        self.assertIn(code, result.get('error_codes', []), result)

    def certificate_credential(self, cert, with_chain=False, key=None):
        credential = {'private_key': key or cert['key'], 'thumbprint': cert['thumbprint']}
        if with_chain:
            credential['public_certificate'] = cert['pem']  # sent as the x5c header
        return credential

    def test_secret(self):
        self.assertToken(self.app(SECRET).acquire_token_for_client(scopes=GRAPH_SCOPE))

    def test_wrong_secret_is_refused(self):
        self.assertRefused(self.app('not-' + SECRET).acquire_token_for_client(scopes=GRAPH_SCOPE), 7000215)

    def test_certificate(self):
        result = self.app(self.certificate_credential(self.registered)).acquire_token_for_client(
            scopes=['https://outlook.office365.com/.default'])
        self.assertIn('access_token', result, result)

    def test_certificate_with_x5c(self):
        self.assertToken(self.app(self.certificate_credential(self.registered, with_chain=True))
                         .acquire_token_for_client(scopes=GRAPH_SCOPE))

    def test_certificate_of_another_key_is_refused(self):
        # The registered certificate's thumbprint, signed by a key that is not its own.
        credential = self.certificate_credential(self.registered, key=self.other['key'])
        self.assertRefused(self.app(credential).acquire_token_for_client(scopes=GRAPH_SCOPE), 700027)

    def test_unregistered_certificate_is_refused(self):
        self.assertRefused(self.app(self.certificate_credential(self.other))
                           .acquire_token_for_client(scopes=GRAPH_SCOPE), 700027)

    def assertion(self, claims=None):
        # MSAL's own assertion, as its ConfidentialClientApplication makes it.
        creator = JwtAssertionCreator(self.registered['key'], 'RS256', sha1_thumbprint=self.registered['thumbprint'])
        token_endpoint = '%s/%s/oauth2/v2.0/token' % (self.sim.base, TENANT)
        return creator.create_normal_assertion(token_endpoint, CLIENT, additional_claims=claims).decode()

    def test_assertion_as_given(self):
        self.assertToken(self.app({'client_assertion': self.assertion()})
                         .acquire_token_for_client(scopes=GRAPH_SCOPE))

    def test_tampered_assertion_is_refused(self):
        header, payload, signature = self.assertion().split('.')
        claims = json.loads(base64.urlsafe_b64decode(payload + '=' * (-len(payload) % 4)))
        claims['exp'] = claims['exp'] + 86400  # a longer life than the key's holder signed
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip('=')
        self.assertRefused(self.app({'client_assertion': '.'.join([header, forged, signature])})
                           .acquire_token_for_client(scopes=GRAPH_SCOPE), 700027)
        # A signature cut short is no signature either.
        self.assertRefused(self.app({'client_assertion': '.'.join([header, payload, signature[:-8]])})
                           .acquire_token_for_client(scopes=GRAPH_SCOPE), 700027)


if __name__ == '__main__':
    print('msal', msal.__version__)
    unittest.main(verbosity=2)
