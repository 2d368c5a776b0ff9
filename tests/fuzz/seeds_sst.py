#!/usr/bin/env python3
# Writes corpus/sst: serialized certificate stores ([MS-OSHARED] 2.3.9.1) in the shapes certsync's
# encoder and Windows' certificate tools write, holding the test PKI's certificates from
# corpus/values. Run from tests/fuzz.
import hashlib, os, struct

here = os.path.dirname(os.path.abspath(__file__))
root = open(os.path.join(here, 'corpus', 'values', 'seed-root.der'), 'rb').read()
leaf = open(os.path.join(here, 'corpus', 'values', 'seed-ec-leaf.der'), 'rb').read()
out = os.path.join(here, 'corpus', 'sst')
os.makedirs(out, exist_ok=True)

def entry(prop, value, encoding=1):
    return struct.pack('<III', prop, encoding, len(value)) + value

def store(*entries):
    return struct.pack('<II', 0, 0x54524543) + b''.join(entries) + struct.pack('<III', 0, 0, 0)

def encoder(der):  # what encodeSerializedStore writes per certificate
    return entry(3, hashlib.sha1(der).digest()) + entry(0x20, der)

friendly = 'Fuzz Root'.encode('utf-16-le') + b'\0\0'
seeds = {
    'seed-empty.sst': store(),
    'seed-root.sst': store(encoder(root)),
    'seed-chain.sst': store(encoder(root), encoder(leaf)),
    # Windows: hash (3), key identifier (20), friendly name (11), then the certificate; or none.
    'seed-windows.sst': store(entry(3, hashlib.sha1(root).digest()), entry(20, hashlib.sha1(b'key').digest()),
                              entry(11, friendly), entry(0x20, root), entry(0x20, leaf)),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
