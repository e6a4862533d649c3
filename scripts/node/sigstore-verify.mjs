// Verify a key-signed sigstore bundle offline with @sigstore/verify: an implementation infractl did not write.
//
//   node scripts/node/sigstore-verify.mjs BUNDLE.json PAYLOAD PUBKEY.pem HINT
//
// BUNDLE.json: a sigstore bundle v0.3 whose verificationMaterial.publicKey.hint is HINT (no transparency log, no
// timestamp: a local key), holding either a message signature (PAYLOAD: the signed bytes, e.g. cosign's
// simple-signing payload) or a DSSE envelope (PAYLOAD: the statement the envelope must carry, byte for byte).
// PUBKEY.pem: the SPKI public key.
// Prints "verified" (exit 0), or "FAILED: <code> <message>" (exit 1). A usage error exits 2.
import { readFileSync } from "node:fs";
import crypto from "node:crypto";
import { bundleFromJSON } from "@sigstore/bundle";
import { Verifier, toSignedEntity, toTrustMaterial } from "@sigstore/verify";

const args = process.argv.slice(2);
if (args.length !== 4) {
  console.error("usage: sigstore-verify.mjs BUNDLE.json PAYLOAD PUBKEY.pem HINT");
  process.exit(2);
}
const [bundlePath, payloadPath, keyPath, hint] = args;

try {
  const bundle = bundleFromJSON(JSON.parse(readFileSync(bundlePath, "utf8")));
  const publicKey = crypto.createPublicKey(readFileSync(keyPath));
  // No Fulcio, Rekor, CT log or TSA: the only trust is the one public key, found by its hint.
  const trustedRoot = {
    mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
    tlogs: [],
    certificateAuthorities: [],
    ctlogs: [],
    timestampAuthorities: [],
  };
  const keyFinder = (keyHint) => {
    if (keyHint !== hint) {
      const err = new Error(`the bundle names key ${JSON.stringify(keyHint)}, expected ${JSON.stringify(hint)}`);
      err.code = "PUBLIC_KEY_ERROR";
      throw err;
    }
    return { publicKey, validFor: () => true };
  };
  const verifier = new Verifier(toTrustMaterial(trustedRoot, keyFinder), {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  const payload = readFileSync(payloadPath);
  if (bundle.content.$case === "dsseEnvelope" && !payload.equals(Buffer.from(bundle.content.dsseEnvelope.payload))) {
    const err = new Error("the envelope carries another payload than the one given");
    err.code = "PAYLOAD_MISMATCH";
    throw err;
  }
  verifier.verify(toSignedEntity(bundle, payload));
  console.log("verified");
} catch (e) {
  console.log(`FAILED: ${e.code || e.name || "ERROR"} ${e.message}`);
  process.exit(1);
}
