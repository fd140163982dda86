// A Rekor v1 log peer for the integration tests, on loopback. The entries,
// signed entry timestamps and signed checkpoints come from @sigstore/mock's
// Rekor implementation (initializeTLog + rekorHandler); this server puts the
// REST API of a real Rekor around it where the mock stops short:
//
// * POST /api/v1/log/entries accepts dsse 0.0.1 only, checks the envelope's
//   signature against the verifier like Rekor does (400 otherwise), and logs
//   Rekor's canonical body {apiVersion, kind, spec{envelopeHash, payloadHash,
//   signatures[{signature, verifier}]}} instead of the proposed entry (the
//   mock logs whatever it is given).
// * The same body twice is 409 Conflict with a Location header naming the
//   existing entry, as Rekor answers (the mock logs duplicates again).
// * Entry uuids are Rekor's: 16 hex digits of tree id + the leaf hash
//   SHA-256(0x00 || body) (the mock draws 32 random bytes).
// * GET /api/v1/log/entries/{uuid} (80 or 64 hex digits), GET /api/v1/log/publicKey.
//
// Other mock behaviour kept as is, and how it differs from rekor.sigstore.dev:
// every entry is the only leaf of its own tree (inclusion proof logIndex 0,
// treeSize 1, no hashes) with a fresh random tree id, while the entry's
// logIndex is a random "global" index; the checkpoint carries a
// "Timestamp: <ns>" extension line.
//
// Test control (not part of Rekor): POST /admin/mode with a body of
//   ok           normal service
//   unavailable  503 to every log request
//   hang         accept log requests and never answer them
//   reject       400 {"code":400,"message":...} to every submission
//   corrupt      log submissions as usual but answer with a copy of the entry
//                whose inclusion proof root is wrong (GET stays correct)
// and GET /admin/stats → {"mode", "posts", "entries": [{uuid, envelopeSha256, logIndex}]}.
//
// usage: node rekor_log.mjs DIR   writes DIR/rekor.port (once listening) and
//                                 DIR/rekor.pub.pem (the log's key); runs until SIGTERM.
import { createRequire } from "node:module";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const require = createRequire(import.meta.url);
const { initializeTLog, rekorHandler } = require("@sigstore/mock");

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node rekor_log.mjs DIR");
  process.exit(2);
}

const ENTRIES = "/api/v1/log/entries";
const keyPair = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
const byLeaf = new Map(); // leaf hash hex -> {uuid, entry, envelopeSha256}
let mode = "ok";
let posts = 0;
const held = new Set(); // responses of requests left hanging
let handler;

const sha256 = (...parts) => {
  const h = crypto.createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};

function pae(type, body) {
  const t = Buffer.from(type, "utf8");
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${body.length} `), body]);
}

function send(res, status, body, headers = {}) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(text);
}

// Rekor's dsse 0.0.1 canonical body for a proposed entry, or throws a message
// Rekor-like enough for a 400.
function canonicalDsseBody(proposed) {
  if (proposed?.kind !== "dsse" || proposed?.apiVersion !== "0.0.1") {
    throw new Error(`unsupported entry kind/apiVersion ${proposed?.kind}/${proposed?.apiVersion}`);
  }
  const content = proposed.spec?.proposedContent;
  if (typeof content?.envelope !== "string" || !Array.isArray(content?.verifiers) || content.verifiers.length === 0) {
    throw new Error("spec.proposedContent needs envelope (string) and verifiers (non-empty)");
  }
  const envelope = JSON.parse(content.envelope);
  const payload = Buffer.from(envelope.payload ?? "", "base64");
  if (!envelope.payloadType || !Array.isArray(envelope.signatures) || envelope.signatures.length === 0) {
    throw new Error("the envelope has no payloadType or no signatures");
  }
  const keys = content.verifiers.map((v) => crypto.createPublicKey(Buffer.from(v, "base64").toString("utf8")));
  const message = pae(envelope.payloadType, payload);
  const signatures = envelope.signatures.map((s) => {
    const sig = Buffer.from(s.sig, "base64");
    const i = keys.findIndex((k) =>
      crypto.verify(k.asymmetricKeyType === "ed25519" ? null : "sha256", message, k, sig));
    if (i < 0) throw new Error("verifying envelope: no verifier matches signature");
    return { signature: s.sig, verifier: content.verifiers[i] };
  });
  signatures.sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return {
    apiVersion: "0.0.1",
    kind: "dsse",
    spec: {
      envelopeHash: { algorithm: "sha256", value: sha256(content.envelope).toString("hex") },
      payloadHash: { algorithm: "sha256", value: sha256(payload).toString("hex") },
      signatures,
    },
  };
}

async function submit(req, res, text) {
  posts += 1;
  if (mode === "reject") return send(res, 400, { code: 400, message: "entry refused by test log (mode reject)" });
  let body;
  try {
    body = canonicalDsseBody(JSON.parse(text));
  } catch (e) {
    return send(res, 400, { code: 400, message: String(e.message ?? e) });
  }
  // The mock canonicalises (RFC 8785) what it is given: that is the logged body.
  const answer = await handler.fn(JSON.stringify(body));
  if (answer.statusCode !== 201) return send(res, answer.statusCode, { code: answer.statusCode, message: answer.response });
  const [[, entry]] = Object.entries(JSON.parse(answer.response));
  const leaf = sha256(Buffer.from([0]), Buffer.from(entry.body, "base64")).toString("hex");
  const existing = byLeaf.get(leaf);
  if (existing) {
    const location = `${ENTRIES}/${existing.uuid}`;
    return send(res, 409, { code: 409, message: `an equivalent entry already exists in the transparency log with UUID ${existing.uuid}` },
      { Location: location });
  }
  const origin = entry.verification.inclusionProof.checkpoint.split("\n")[0];
  const treeId = BigInt(origin.split(" - ")[1]).toString(16).padStart(16, "0");
  const uuid = treeId + leaf;
  byLeaf.set(leaf, { uuid, entry, envelopeSha256: body.spec.envelopeHash.value });
  let answered = entry;
  if (mode === "corrupt") {
    answered = structuredClone(entry);
    answered.verification.inclusionProof.rootHash = "00".repeat(32);
  }
  send(res, 201, { [uuid]: answered }, { Location: `${ENTRIES}/${uuid}`, ETag: uuid });
}

function lookup(res, id) {
  for (const { uuid, entry } of byLeaf.values()) {
    if (uuid === id || uuid.endsWith(id)) return send(res, 200, { [uuid]: entry });
  }
  send(res, 404, { code: 404, message: `no entry ${id}` });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname === "/admin/mode" && req.method === "POST") {
      const wanted = text.trim();
      if (!["ok", "unavailable", "hang", "reject", "corrupt"].includes(wanted)) return send(res, 400, { message: `unknown mode ${wanted}` });
      mode = wanted;
      if (mode !== "hang") {
        for (const r of held) r.destroy();
        held.clear();
      }
      return send(res, 200, { mode });
    }
    if (url.pathname === "/admin/stats") {
      const entries = [...byLeaf.values()].map((e) => ({ uuid: e.uuid, envelopeSha256: e.envelopeSha256, logIndex: e.entry.logIndex }));
      return send(res, 200, { mode, posts, entries });
    }
    if (!url.pathname.startsWith("/api/v1/")) return send(res, 404, { code: 404, message: "not found" });
    if (mode === "hang") {
      if (req.method === "POST") posts += 1;
      held.add(res);
      return;
    }
    if (mode === "unavailable") {
      if (req.method === "POST") posts += 1;
      return send(res, 503, { code: 503, message: "log unavailable (test log mode unavailable)" });
    }
    if (url.pathname === ENTRIES && req.method === "POST") {
      submit(req, res, text).catch((e) => send(res, 500, { code: 500, message: String(e) }));
      return;
    }
    const m = url.pathname.match(/^\/api\/v1\/log\/entries\/([0-9a-f]{64}|[0-9a-f]{80})$/);
    if (m && req.method === "GET") return lookup(res, m[1]);
    if (url.pathname === "/api/v1/log/publicKey" && req.method === "GET") {
      res.writeHead(200, { "Content-Type": "application/x-pem-file" });
      return res.end(keyPair.publicKey.export({ type: "spki", format: "pem" }));
    }
    send(res, 404, { code: 404, message: "not found" });
  });
});

server.listen(0, "127.0.0.1", async () => {
  const port = server.address().port;
  handler = rekorHandler(await initializeTLog(`http://127.0.0.1:${port}`, keyPair));
  fs.writeFileSync(path.join(dir, "rekor.pub.pem"), keyPair.publicKey.export({ type: "spki", format: "pem" }));
  // The port file last: once it exists, the log answers.
  fs.writeFileSync(path.join(dir, "rekor.port.tmp"), `${port}\n`);
  fs.renameSync(path.join(dir, "rekor.port.tmp"), path.join(dir, "rekor.port"));
});

process.on("SIGTERM", () => {
  for (const r of held) r.destroy();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
