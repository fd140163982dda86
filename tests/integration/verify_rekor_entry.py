#!/usr/bin/python3
"""Checks a stored Rekor v1 entry object (….rekor.json) against the DSSE
envelope it logs, independently of Signals (Python `cryptography` and the
standard library only):

* body: kind dsse 0.0.1; envelopeHash = SHA-256 of the envelope bytes;
  payloadHash = SHA-256 of the decoded payload; the signature is the
  envelope's, the verifier is base64 of the signer's PEM (same key);
* uuid = [16 hex tree id] + leaf hash, leaf hash = SHA-256(0x00 || body);
* logID = SHA-256 of the log key's DER SubjectPublicKeyInfo;
* inclusion proof (RFC 9162 §2.1.3.2) from the leaf to rootHash;
* checkpoint: a signed note whose size/root equal the proof's, signed by the
  log key (key hint = first 4 bytes of logID);
* SET: ECDSA over RFC 8785 JSON {body, integratedTime, logID, logIndex}.

usage: verify_rekor_entry.py ENTRY.json ENVELOPE.dsse SIGNER.pub.pem LOG.pub.pem
Prints "ok <uuid>" and exits 0, or names the first failed check and exits 1.
"""
import base64
import hashlib
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def fail(msg):
    print(f"rekor entry: {msg}", file=sys.stderr)
    sys.exit(1)


def sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def root_from_proof(index, size, leaf, proof):
    # RFC 9162 §2.1.3.2.
    if index >= size:
        fail(f"proof index {index} >= tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            fail("inclusion proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = sha(b"\x01", p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = sha(b"\x01", r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        fail("inclusion proof is shorter than the tree needs")
    return r


def main():
    entry_path, envelope_path, signer_path, log_path = sys.argv[1:5]
    entry = json.load(open(entry_path))
    envelope_bytes = open(envelope_path, "rb").read()
    envelope = json.loads(envelope_bytes)
    signer_pem = open(signer_path, "rb").read()
    log_key = serialization.load_pem_public_key(open(log_path, "rb").read())
    log_der = log_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    body_bytes = base64.b64decode(entry["body"])
    body = json.loads(body_bytes)
    if (body.get("kind"), body.get("apiVersion")) != ("dsse", "0.0.1"):
        fail(f"body is {body.get('kind')} {body.get('apiVersion')}, not dsse 0.0.1")
    spec = body["spec"]
    if spec["envelopeHash"]["value"] != hashlib.sha256(envelope_bytes).hexdigest():
        fail("envelopeHash is not the SHA-256 of the stored envelope")
    if spec["payloadHash"]["value"] != hashlib.sha256(base64.b64decode(envelope["payload"])).hexdigest():
        fail("payloadHash is not the SHA-256 of the envelope's payload")
    sigs = spec["signatures"]
    if [s["signature"] for s in sigs] != [s["sig"] for s in envelope["signatures"]]:
        fail("the body's signatures are not the envelope's")
    logged_key = serialization.load_pem_public_key(base64.b64decode(sigs[0]["verifier"]))
    signer_key = serialization.load_pem_public_key(signer_pem)
    der = lambda k: k.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if der(logged_key) != der(signer_key):
        fail("the body's verifier is not the signer's public key")

    leaf = sha(b"\x00", body_bytes)
    uuid = entry["uuid"]
    if uuid[-64:] != leaf.hex() or len(uuid) not in (64, 80):
        fail(f"uuid {uuid} does not end with the leaf hash {leaf.hex()}")
    if entry["logID"] != hashlib.sha256(log_der).hexdigest():
        fail("logID is not the SHA-256 of the log key")

    proof = entry["verification"]["inclusionProof"]
    root = root_from_proof(proof["logIndex"], proof["treeSize"], leaf, [bytes.fromhex(h) for h in proof["hashes"]])
    if root.hex() != proof["rootHash"]:
        fail(f"inclusion proof: computed root {root.hex()} != {proof['rootHash']}")

    note, _, sig_block = proof["checkpoint"].partition("\n\n")
    lines = note.split("\n")
    if int(lines[1]) != proof["treeSize"] or base64.b64decode(lines[2]) != root:
        fail("checkpoint size/root differ from the inclusion proof")
    sig_line = sig_block.strip().split("\n")[0]
    if not sig_line.startswith("\u2014 "):
        fail(f"checkpoint signature line is malformed: {sig_line!r}")
    raw = base64.b64decode(sig_line.rsplit(" ", 1)[1])
    if raw[:4] != bytes.fromhex(entry["logID"])[:4]:
        fail("checkpoint key hint is not the log's")
    try:
        log_key.verify(raw[4:], (note + "\n").encode(), ec.ECDSA(hashes.SHA256()))
    except Exception:
        fail("checkpoint signature does not verify with the log key")

    set_payload = json.dumps({"body": entry["body"], "integratedTime": entry["integratedTime"],
                              "logID": entry["logID"], "logIndex": entry["logIndex"]},
                             sort_keys=True, separators=(",", ":")).encode()
    try:
        log_key.verify(base64.b64decode(entry["verification"]["signedEntryTimestamp"]), set_payload,
                       ec.ECDSA(hashes.SHA256()))
    except Exception:
        fail("signedEntryTimestamp does not verify with the log key")
    print(f"ok {uuid}")


if __name__ == "__main__":
    main()
