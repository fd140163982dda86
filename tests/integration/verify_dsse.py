#!/usr/bin/python3
"""Verifies a DSSE envelope with Python `cryptography` — an implementation that
shares no code with Signals. PAE is computed here from the DSSE v1 spec:

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

with lengths as ASCII decimal byte counts.

usage: verify_dsse.py ENVELOPE.json PUBLIC_KEY.pem [--keyid ID]
exit:  0 a signature verifies, 1 none does (or the envelope is malformed), 2 usage
"""
import base64
import binascii
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


def pae(payload_type: bytes, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE allows either)."""
    text = text.strip()
    text += "=" * (-len(text) % 4)
    alphabet = b"-_" if ("-" in text or "_" in text) else b"+/"
    return base64.b64decode(text, altchars=alphabet, validate=True)


def main(argv):
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--keyid"):
        print(__doc__, file=sys.stderr)
        return 2
    want_keyid = argv[4] if len(argv) == 5 else None
    try:
        with open(argv[1], "rb") as f:
            envelope = json.load(f)
        with open(argv[2], "rb") as f:
            key = serialization.load_pem_public_key(f.read())
    except (OSError, ValueError) as e:
        print(f"verify_dsse: {e}", file=sys.stderr)
        return 2
    try:
        payload_type = envelope["payloadType"].encode("utf-8")
        payload = b64decode(envelope["payload"])
        signatures = envelope["signatures"]
    except (KeyError, TypeError, AttributeError, binascii.Error, ValueError) as e:
        print(f"verify_dsse: malformed envelope: {e!r}", file=sys.stderr)
        return 1
    message = pae(payload_type, payload)
    for sig in signatures:
        if want_keyid is not None and sig.get("keyid") != want_keyid:
            continue
        try:
            raw = b64decode(sig["sig"])
            if isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(raw, message)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(raw, message, ec.ECDSA(hashes.SHA256()))
            else:
                print(f"verify_dsse: unsupported key type {type(key).__name__}", file=sys.stderr)
                return 2
        except (InvalidSignature, KeyError, binascii.Error, ValueError):
            continue
        print(f"verify_dsse: valid signature by keyid {sig.get('keyid')!r} "
              f"over {len(payload)} payload bytes ({payload_type.decode()})")
        return 0
    print("verify_dsse: no signature verifies", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
