// Verifies a Sigstore bundle with @sigstore/verify (Sigstore's own verifier,
// not ours), trusting only the keys given on the command line: the signer's
// public key (looked up by the bundle's publicKey.hint, which must be the
// base64 SHA-256 of the key's DER) and, optionally, a Rekor log key.
//
// usage: node verify_bundle.mjs BUNDLE --key PEM [--rekor-key PEM] [--rekor-url URL]
//
// Without --rekor-key no transparency-log entry is required (tlog and
// timestamp thresholds 0) and any entry in the bundle fails, having no
// trusted log. With it, one verified entry is required: its SET (which is
// also the signature's timestamp), inclusion proof and checkpoint. The
// checkpoint's signer name must match the log's URL (a @sigstore/verify
// rule); --rekor-url defaults to https://<the name on the bundle's checkpoint>,
// which is not a trust input — the key is.
import { readFileSync } from "node:fs";
import { createHash, createPublicKey } from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { Verifier, toSignedEntity, toTrustMaterial } from "@sigstore/verify";

function usage(message) {
  console.error(`verify_bundle: ${message}\nusage: node verify_bundle.mjs BUNDLE --key PEM [--rekor-key PEM] [--rekor-url URL]`);
  process.exit(2);
}

const args = process.argv.slice(2);
const options = {};
let bundlePath;
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith("--")) {
    if (i + 1 >= args.length) usage(`${args[i]} needs a value`);
    options[args[i].slice(2)] = args[++i];
  } else if (!bundlePath) {
    bundlePath = args[i];
  } else {
    usage(`unexpected argument ${args[i]}`);
  }
}
if (!bundlePath || !options.key) usage("BUNDLE and --key are required");
for (const name of Object.keys(options)) {
  if (!["key", "rekor-key", "rekor-url"].includes(name)) usage(`unknown option --${name}`);
}

const spkiDer = (pemFile) => createPublicKey(readFileSync(pemFile, "utf8")).export({ type: "spki", format: "der" });
const sha256 = (bytes) => createHash("sha256").update(bytes).digest();

const bundleJson = JSON.parse(readFileSync(bundlePath, "utf8"));
const signerDer = spkiDer(options.key);
const hint = sha256(signerDer).toString("base64");

const tlogs = [];
if (options["rekor-key"]) {
  const logDer = spkiDer(options["rekor-key"]);
  let url = options["rekor-url"];
  if (!url) {
    const note = bundleJson.verificationMaterial?.tlogEntries?.[0]?.inclusionProof?.checkpoint?.envelope ?? "";
    const name = /\u2014 (\S+) /.exec(note)?.[1];
    url = `https://${name ?? "rekor.invalid"}`;
  }
  tlogs.push({
    baseUrl: url,
    publicKey: { rawBytes: logDer, validFor: { start: new Date(0) } },
    logId: { keyId: sha256(logDer) },
  });
}
const root = { certificateAuthorities: [], timestampAuthorities: [], ctlogs: [], tlogs };
const trust = toTrustMaterial(root, { [hint]: { rawBytes: signerDer } });
const withLog = tlogs.length > 0;
const verifier = new Verifier(trust, {
  tlogThreshold: withLog ? 1 : 0,
  timestampThreshold: withLog ? 1 : 0,
  ctlogThreshold: 0,
});

try {
  const bundle = bundleFromJSON(bundleJson);
  verifier.verify(toSignedEntity(bundle));
  const entries = bundle.verificationMaterial.tlogEntries.length;
  console.log(`verified: ${bundlePath} (${bundle.mediaType}, key hint ${hint}, ${entries} tlog entries)`);
} catch (err) {
  console.error(`not verified: ${err.code ? err.code + ": " : ""}${err.message}`);
  process.exit(1);
}
