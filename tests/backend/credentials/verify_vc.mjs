// An independent verifier of Waymark credentials: jose (JWS), ethers (EIP-712, keccak),
// canonicalize (RFC 8785), and nothing from Waymark. Usage:
//   node verify_vc.mjs <credential URL> [JSON object of request headers for that URL]
// Resolves the issuer's did:web over the network (http for loopback hosts only, which
// tests serve without TLS), verifies the vc+jwt with the key its kid names (it must be an
// assertionMethod of that DID), then the status list credential (if any) the same way, and checks the
// evidence: the document re-hashes to documentHash, the EIP-712 signature recovers to the
// signer. Prints one JSON object.
import { gunzipSync } from "node:zlib";
import * as jose from "jose";
import { keccak256, toUtf8Bytes, verifyTypedData } from "ethers";
import canonicalize from "canonicalize";

const fail = (message) => {
  console.log(JSON.stringify({ verified: false, error: message }));
  process.exit(1);
};

function didUrl(did) {
  if (!did.startsWith("did:web:")) fail(`not a did:web: ${did}`);
  const [host, ...path] = did.slice("did:web:".length).split(":");
  const authority = decodeURIComponent(host);
  const scheme = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(authority) ? "http" : "https";
  return `${scheme}://${authority}/${path.length ? path.join("/") : ".well-known"}/did.json`;
}

async function fetchText(url, accept, extra = {}) {
  const resp = await fetch(url, { headers: { ...extra, Accept: accept } });
  if (!resp.ok) fail(`${url}: HTTP ${resp.status}`);
  return { text: await resp.text(), type: resp.headers.get("content-type") };
}

async function verifyJwt(jws) {
  const header = jose.decodeProtectedHeader(jws);
  if (header.typ !== "vc+jwt") fail(`typ is ${header.typ}, not vc+jwt`);
  if (header.alg !== "ES256K") fail(`alg is ${header.alg}`);
  const did = header.kid.split("#")[0];
  const doc = JSON.parse((await fetchText(didUrl(did), "application/did+ld+json")).text);
  if (doc.id !== did) fail(`DID document id ${doc.id} is not ${did}`);
  if (!doc.assertionMethod.includes(header.kid)) fail(`${header.kid} is no assertionMethod`);
  const method = doc.verificationMethod.find((m) => m.id === header.kid);
  if (!method) fail(`${header.kid} is not in the DID document`);
  const key = await jose.importJWK(method.publicKeyJwk, "ES256K");
  const { payload } = await jose.compactVerify(jws, key);
  const credential = JSON.parse(new TextDecoder().decode(payload));
  const issuer = typeof credential.issuer === "string" ? credential.issuer : credential.issuer.id;
  if (issuer !== did) fail(`credential issuer ${issuer} did not sign it (${did} did)`);
  return { credential, did, didDocument: doc };
}

const url = process.argv[2];
const auth = process.argv[3] ? JSON.parse(process.argv[3]) : {};
const { text: jws, type } = await fetchText(url, "application/vc+jwt", auth);
if (!type.startsWith("application/vc+jwt")) fail(`content type ${type}`);
const { credential, did, didDocument } = await verifyJwt(jws);

const entry = credential.credentialStatus;
let statusSet = null;
let statusListLength = null;
if (entry) {
  const list = await fetchText(entry.statusListCredential, "application/vc+jwt");
  const verifiedList = await verifyJwt(list.text);
  if (verifiedList.did !== did) fail("status list issued by another DID");
  const subject = verifiedList.credential.credentialSubject;
  if (subject.statusPurpose !== entry.statusPurpose) fail("status purpose differs");
  const encoded = subject.encodedList;
  if (!encoded.startsWith("u")) fail("encodedList is not multibase base64url");
  const bits = gunzipSync(Buffer.from(encoded.slice(1), "base64url"));
  const index = Number(entry.statusListIndex);
  statusSet = (bits[index >> 3] & (0x80 >> (index % 8))) !== 0;
  statusListLength = bits.length * 8;
}

const evidence = credential.evidence[0];
const documentHash = evidence.document
  ? keccak256(toUtf8Bytes(canonicalize(evidence.document)))
  : null;
let signer = null;
if (evidence.issuerSignature) {
  const { typedData, signature } = evidence.issuerSignature;
  const { EIP712Domain, ...types } = typedData.types;
  signer = verifyTypedData(typedData.domain, types, typedData.message, signature);
}
console.log(
  JSON.stringify({
    verified: true,
    did,
    didDocument,
    credential,
    statusSet,
    documentHash,
    signer,
    statusListLength,
  }),
);
