#!/usr/bin/env python3
# Writes corpus/ldap_entry: SearchResultEntry contents (the DN and the attribute list) in the shapes
# the reader meets (an AD user with certificates, an OpenLDAP inetOrgPerson, an entry without
# attributes, attributes with options and without values). Run from tests/fuzz.
import os

def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, 'big')
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body

def octets(b):
    return tlv(0x04, b if isinstance(b, bytes) else b.encode())

def entry(dn, attributes):
    parts = b''.join(tlv(0x30, octets(name) + tlv(0x31, b''.join(octets(v) for v in values)))
                     for name, values in attributes)
    return octets(dn) + tlv(0x30, parts)

here = os.path.dirname(os.path.abspath(__file__))
values = os.path.join(here, 'corpus', 'values')
leaf = open(os.path.join(values, 'seed-ec-leaf.der'), 'rb').read()
p7b = open(os.path.join(values, 'seed-outlook.p7b'), 'rb').read()
seeds = {
    'ad-user': entry('CN=Alice Example,OU=Staff,DC=example,DC=test', [
        ('objectClass', ['top', 'person', 'organizationalPerson', 'user']),
        ('userPrincipalName', ['alice@example.test']),
        ('mail', ['alice@example.test']),
        ('proxyAddresses', ['SMTP:alice@example.test', 'smtp:a.example@example.test']),
        ('objectGUID', [bytes(range(16))]),
        ('userAccountControl', ['512']),
        ('userCertificate', [leaf]),
        ('userSMIMECertificate', [p7b]),
    ]),
    'openldap-options': entry('uid=bob,ou=people,dc=example,dc=test', [
        ('objectClass', ['inetOrgPerson']),
        ('mail', ['bob@example.test']),
        ('userCertificate;binary', [leaf, leaf]),
        ('USERCERTIFICATE;binary;x-other', [leaf]),
        ('description;lang-de', ['Zertifikat \u00fcberpr\u00fcft']),
    ]),
    'no-attributes': entry('cn=empty,dc=example,dc=test', []),
    'attribute-without-values': entry('cn=novalues,dc=example,dc=test', [('mail', [])]),
    'rootdse': entry('', [('namingContexts', ['DC=example,DC=test']), ('supportedControl', ['1.2.840.113556.1.4.319'])]),
}
out = os.path.join(here, 'corpus', 'ldap_entry')
os.makedirs(out, exist_ok=True)
for name, body in seeds.items():
    with open(os.path.join(out, 'seed-' + name + '.ber'), 'wb') as f:
        f.write(body)
