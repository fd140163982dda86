#!/usr/bin/python3
"""Writes a Rekor v1 log entry for a DSSE envelope, in the REST shape Signals
stores (README.md#transparency-log-rekor-v1), as a small log of our own would
answer it: a fresh ECDSA P-256 log key, a dsse 0.0.1 body, a Merkle tree of several leaves with
the entry in the middle, a signed checkpoint note and a SET. It shares no code
with the verifier under test: the tree uses the recursive definitions of
RFC 6962 section 2.1 (MTH and PATH), signatures come from Python
`cryptography`.

usage: rekor_entry.py ENVELOPE.json SIGNER.pem LOG_KEY_OUT.pem ENTRY_OUT.json
The global logIndex is the shard index plus 1,000,000, so a verifier that
mixes the two fails.
"""
import base64
import hashlib
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(leaf):
    return sha256(b"\x00" + leaf)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def largest_power_of_two_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = largest_power_of_two_below(len(leaves))
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    """RFC 6962 PATH(m, D[n]): the audit path, leaf to root."""
    if len(leaves) == 1:
        return []
    k = largest_power_of_two_below(len(leaves))
    if m < k:
        return path(m, leaves[:k]) + [mth(leaves[k:])]
    return path(m - k, leaves[k:]) + [mth(leaves[:k])]


def canonical(value):
    # The values here are ASCII strings and integers, where RFC 8785 is this.
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def main():
    envelope_path, signer_pem_path, log_key_out, entry_out = sys.argv[1:5]
    envelope_bytes = open(envelope_path, "rb").read()
    envelope = json.loads(envelope_bytes)
    signer_pem = open(signer_pem_path, "rb").read()
    payload = base64.b64decode(envelope["payload"])

    body = canonical({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_bytes).hexdigest()},
            "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
            "signatures": [{"signature": s["sig"], "verifier": base64.b64encode(signer_pem).decode()}
                           for s in envelope["signatures"]],
        },
    })

    log_key = ec.generate_private_key(ec.SECP256R1())
    log_der = log_key.public_key().public_bytes(serialization.Encoding.DER,
                                                serialization.PublicFormat.SubjectPublicKeyInfo)
    with open(log_key_out, "wb") as f:
        f.write(log_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    log_id = sha256(log_der)

    index, size = 5, 7
    leaves = [os.urandom(40) for _ in range(size)]
    leaves[index] = body
    root = mth(leaves)
    proof = path(index, leaves)

    tree_id = int.from_bytes(os.urandom(8), "big") >> 1
    name = "signals-test-log"
    note = f"{name} - {tree_id}\n{size}\n{base64.b64encode(root).decode()}\n".encode()
    note_sig = log_key.sign(note, ec.ECDSA(hashes.SHA256()))
    checkpoint = note + b"\n" + "\u2014 ".encode() + name.encode() + b" " + \
        base64.b64encode(log_id[:4] + note_sig) + b"\n"

    integrated_time = int(time.time())
    global_index = 1_000_000 + index
    body_b64 = base64.b64encode(body).decode()
    set_payload = canonical({"body": body_b64, "integratedTime": integrated_time,
                             "logID": log_id.hex(), "logIndex": global_index})
    entry = {
        "uuid": f"{tree_id:016x}" + leaf_hash(body).hex(),
        "body": body_b64,
        "integratedTime": integrated_time,
        "logID": log_id.hex(),
        "logIndex": global_index,
        "verification": {
            "inclusionProof": {
                "checkpoint": checkpoint.decode(),
                "hashes": [h.hex() for h in proof],
                "logIndex": index,
                "rootHash": root.hex(),
                "treeSize": size,
            },
            "signedEntryTimestamp": base64.b64encode(log_key.sign(set_payload, ec.ECDSA(hashes.SHA256()))).decode(),
        },
    }
    with open(entry_out, "w") as f:
        json.dump(entry, f, indent=1)


if __name__ == "__main__":
    main()
