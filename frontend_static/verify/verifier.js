// The second proof verifier: checks a waymark-proof-bundle/3 against a chain
// through JSON-RPC, with trust anchors (chain id, registry addresses, and the
// anchorer whose anchors count in the open AnchorRegistry) taken only from a
// deployment manifest the user chose. It shares no code with the
// service: ethers v6 for ABI, EIP-712 and signatures, @openzeppelin/merkle-tree
// for the leaf and the fold, canonicalize for RFC 8785 (JCS). The rules are the
// ones docs/qr.md ("Proof bundle") lists; check ids and verdicts are the same.
import {
  AbiCoder,
  Interface,
  Signature,
  TypedDataEncoder,
  ZeroHash,
  getAddress,
  getBytes,
  hexlify,
  keccak256,
  recoverAddress,
  toUtf8Bytes,
} from "ethers";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import canonicalize from "canonicalize";
import CONTRACTS from "waymark:contracts";

export const FORMAT = "waymark-proof-bundle/3";
export const TRUSTED = [
  "AnchorRegistry",
  "ProductPassportRegistry",
  "ShipmentRegistry",
  "OrganisationRegistry",
];
const EVENTS_DOMAIN = { name: "Waymark Events", version: "1" };
const STATUSES = ["None", "Active", "Recalled", "Revoked"];
const IFACE = Object.fromEntries(TRUSTED.map((n) => [n, new Interface(CONTRACTS.abis[n])]));

/** The bundle or manifest cannot be checked at all (not a verdict about the product). */
export class CouldNotCheck extends Error {}

class Reverted extends Error {}

// -- input shape ----------------------------------------------------------------------

const HEX = /^0x[0-9a-fA-F]*$/;

function need(cond, what) {
  if (!cond) throw new CouldNotCheck(`the bundle is missing or mistypes ${what}`);
}
const isObj = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isHex = (v, bytes) => typeof v === "string" && HEX.test(v) && v.length === 2 + 2 * bytes;
const isInt = (v) => Number.isSafeInteger(v) && v >= 0;
const same = (a, b) => typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();

function checkShape(bundle) {
  if (!isObj(bundle)) throw new CouldNotCheck("the bundle is not a JSON object");
  if (bundle.format !== FORMAT) {
    throw new CouldNotCheck(`unknown bundle format ${JSON.stringify(bundle.format)}; this page reads ${FORMAT}`);
  }
  need(isInt(bundle.chain_id), "chain_id");
  need(isObj(bundle.contracts), "contracts");
  for (const [name, addr] of Object.entries(bundle.contracts)) need(isHex(addr, 20), `contracts.${name}`);
  need(isHex(bundle.anchorer, 20), "anchorer");
  const s = bundle.subject;
  need(isObj(s) && isHex(s.passport_id, 32), "subject.passport_id");
  need(typeof s.gs1_path === "string" && /^\/01\/\d{14}/.test(s.gs1_path), "subject.gs1_path");
  const p = bundle.passport;
  need(isObj(p), "passport");
  need(isInt(p.version) && p.version > 0, "passport.version");
  need(isObj(p.document), "passport.document");
  need(isHex(p.canonical_hash, 32), "passport.canonical_hash");
  need(isHex(p.issuer, 20), "passport.issuer");
  need(Array.isArray(bundle.events ?? []), "events");
  need(Array.isArray(bundle.milestones ?? []), "milestones");
  need(Array.isArray(bundle.delegations ?? []), "delegations");
  (bundle.events ?? []).forEach((e, i) => {
    const at = `events[${i}]`;
    need(isObj(e), at);
    need(isHex(e.digest, 32), `${at}.digest`);
    need(isHex(e.signer, 20), `${at}.signer`);
    need(typeof e.signature === "string" && HEX.test(e.signature), `${at}.signature`);
    need(isObj(e.typed_data) && isObj(e.typed_data.domain) && isObj(e.typed_data.types) && isObj(e.typed_data.message), `${at}.typed_data`);
    if (e.anchor != null) {
      need(isObj(e.anchor) && isHex(e.anchor.tx_hash, 32) && isInt(e.anchor.block_number), `${at}.anchor`);
      need(isHex(e.leaf, 32) && isHex(e.root, 32), `${at}.leaf / root`);
      need(Array.isArray(e.proof) && e.proof.every((x) => isHex(x, 32)), `${at}.proof`);
      // Why the signer may speak for the passport (checked once the event is anchored).
      const auth = e.authorisation;
      need(isObj(auth) && ["issuer", "delegate", "shipment_party"].includes(auth.basis), `${at}.authorisation.basis`);
      const count = (bundle.delegations ?? []).length;
      const indexed = auth.delegation == null || (Number.isInteger(auth.delegation) && auth.delegation >= 0 && auth.delegation < count);
      need(indexed && (auth.basis !== "delegate" || auth.delegation != null), `${at}.authorisation.delegation`);
      need(auth.basis !== "shipment_party" || isHex(auth.shipment_id, 32), `${at}.authorisation.shipment_id`);
    }
  });
  (bundle.milestones ?? []).forEach((m, i) => {
    const at = `milestones[${i}]`;
    need(isObj(m) && isHex(m.shipment_id, 32) && isHex(m.record_hash, 32), at);
    need(isHex(m.signer, 20) && isHex(m.tx_hash, 32) && isInt(m.block_number), at);
    need(typeof m.milestone === "string", `${at}.milestone`);
  });
}

/**
 * The trust anchors of a manifest: {chainId, addresses: {name: checksummed address},
 * anchorer (the account whose anchors count: the registry is open, keyed by sender), deployedAt}.
 */
export function trustAnchors(manifest) {
  if (!isObj(manifest) || !isInt(manifest.chainId) || !isObj(manifest.contracts)) {
    throw new CouldNotCheck("the trust manifest has no chainId or contracts");
  }
  const addresses = {};
  const deployedAt = {};
  for (const name of TRUSTED) {
    const entry = manifest.contracts[name];
    if (!isObj(entry) || !isHex(entry.address, 20)) {
      throw new CouldNotCheck(`the trust manifest names no ${name}`);
    }
    addresses[name] = getAddress(entry.address.toLowerCase());
    // Where log searches start (public nodes refuse unbounded ranges); 0 if not given.
    deployedAt[name] = isInt(entry.deploy_block) ? entry.deploy_block : 0;
  }
  if (!isHex(manifest.anchorer, 20)) {
    throw new CouldNotCheck("the trust manifest names no anchorer (the account whose anchors count)");
  }
  const anchorer = getAddress(manifest.anchorer.toLowerCase());
  return { chainId: manifest.chainId, addresses, anchorer, deployedAt };
}

// -- JSON-RPC ---------------------------------------------------------------------------

export function jsonRpc(url, fetchImpl = globalThis.fetch.bind(globalThis)) {
  let id = 0;
  return async function call(method, params) {
    let response;
    try {
      response = await fetchImpl(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params }),
      });
    } catch (err) {
      throw new CouldNotCheck(`the RPC node at ${url} cannot be reached (${err.message})`);
    }
    if (!response.ok) throw new CouldNotCheck(`the RPC node at ${url} answered HTTP ${response.status}`);
    let body;
    try {
      body = await response.json();
    } catch {
      throw new CouldNotCheck(`the RPC node at ${url} did not answer JSON`);
    }
    if (body.error) {
      const data = typeof body.error.data === "string" ? body.error.data : body.error.data?.data;
      if (method === "eth_call" && (body.error.code === 3 || /revert/i.test(body.error.message || ""))) {
        const err = new Reverted(body.error.message || "execution reverted");
        err.data = data;
        throw err;
      }
      throw new CouldNotCheck(`the RPC node answered ${method} with an error: ${body.error.message}`);
    }
    return body.result;
  };
}

function decodeRevert(name, err) {
  if (err.data && HEX.test(err.data) && err.data.length >= 10) {
    try {
      const parsed = IFACE[name].parseError(err.data);
      if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    } catch {
      /* not one of the contract's errors */
    }
  }
  return err.message;
}

// -- the verifier -------------------------------------------------------------------------

class Chain {
  constructor(rpc, addresses, deployedAt) {
    this.rpc = rpc;
    this.addresses = addresses;
    this.deployedAt = deployedAt;
    this.keys = new Map();
    this.orgs = new Map();
  }

  async call(name, fn, args) {
    const iface = IFACE[name];
    const data = iface.encodeFunctionData(fn, args);
    const raw = await this.rpc("eth_call", [{ to: this.addresses[name], data }, "latest"]);
    return iface.decodeFunctionResult(fn, raw);
  }

  async tryCall(name, fn, args) {
    try {
      return { value: await this.call(name, fn, args) };
    } catch (err) {
      if (err instanceof Reverted) return { error: `${name}.${fn} reverted: ${decodeRevert(name, err)}` };
      throw err;
    }
  }

  async keyOf(address) {
    const key = address.toLowerCase();
    if (!this.keys.has(key)) {
      const [rec] = await this.call("OrganisationRegistry", "keyOf", [getAddress(key)]);
      this.keys.set(key, {
        orgId: rec.orgId,
        roles: Number(rec.roles),
        addedAt: Number(rec.addedAt),
        revokedAt: Number(rec.revokedAt),
      });
    }
    return this.keys.get(key);
  }

  async orgName(orgId) {
    if (orgId === ZeroHash) return null;
    if (!this.orgs.has(orgId)) {
      const [org] = await this.call("OrganisationRegistry", "organisation", [orgId]);
      this.orgs.set(orgId, org.legalName || null);
    }
    return this.orgs.get(orgId);
  }

  /** The receipt of txHash if it is in canonical block blockNumber, else a reason. */
  async canonicalReceipt(txHash, blockNumber) {
    const receipt = await this.rpc("eth_getTransactionReceipt", [txHash]);
    if (!receipt) return { why: `transaction ${txHash} is not on this chain` };
    const inBlock = Number(BigInt(receipt.blockNumber));
    if (inBlock !== blockNumber) return { why: `transaction ${txHash} is in block ${inBlock}, not ${blockNumber}` };
    if (receipt.status !== undefined && BigInt(receipt.status) !== 1n) return { why: `transaction ${txHash} failed` };
    const block = await this.rpc("eth_getBlockByNumber", ["0x" + blockNumber.toString(16), false]);
    if (!block || !same(block.hash, receipt.blockHash)) {
      return { why: `block ${blockNumber} of the canonical chain is ${block?.hash}, the receipt names ${receipt.blockHash} (orphaned)` };
    }
    return { receipt };
  }
}

const activeAt = (key, block) => key.orgId !== ZeroHash && key.addedAt <= block && (key.revokedAt === 0 || block < key.revokedAt);
const orgIdOf = (slug) => keccak256(toUtf8Bytes(`waymark.org:${slug}`));

function typedDigest(typed) {
  const types = { ...typed.types };
  delete types.EIP712Domain;
  return TypedDataEncoder.hash(typed.domain, types, typed.message);
}

const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function recover(digest, signature) {
  // Only the form OpenZeppelin's ECDSA.recover accepts: 65 bytes, v 27 or 28, r and s
  // non-zero, s in the lower half (ethers alone would also take v 0/1 and some high s).
  const raw = getBytes(signature);
  if (raw.length !== 65) throw new Error(`signature must be 65 bytes, got ${raw.length}`);
  const r = BigInt(hexlify(raw.slice(0, 32)));
  const s = BigInt(hexlify(raw.slice(32, 64)));
  const v = raw[64];
  if (v !== 27 && v !== 28) throw new Error(`signature v must be 27 or 28, got ${v}`);
  if (r === 0n || s === 0n || r >= SECP256K1_N) throw new Error("signature r or s is zero or out of range");
  if (s > SECP256K1_N / 2n) throw new Error("signature s is in the upper half order (malleable form)");
  return recoverAddress(digest, Signature.from(signature));
}

const ERC1271 = "0x1626ba7e"; // isValidSignature(bytes32,bytes), and its magic answer
const ERC1271_ARGS = AbiCoder.defaultAbiCoder();

/**
 * Whether `signer` signed `digest` by the contracts' one rule: a plain key's signature
 * recovers to it; otherwise a contract wallet's is the one its ERC-1271 isValidSignature
 * accepts at `block` (the anchoring block: the wallet's owners then; the head when null),
 * asked of `signer` alone. {ok, detail}.
 */
async function signedBy(rpc, signer, digest, signature, block) {
  let recovered = null;
  let problem = null;
  try {
    recovered = recover(digest, signature);
    if (same(recovered, signer)) return { ok: true, detail: `ecrecover gives ${recovered}` };
  } catch (err) {
    problem = err.shortMessage || err.message;
  }
  const key = problem ? `bad key signature: ${problem}` : `ecrecover gives ${recovered}`;
  let why;
  let where = block == null ? "at the head" : `at block ${block}`;
  try {
    why = await walletAnswer(rpc, signer, digest, signature, block == null ? "latest" : "0x" + block.toString(16));
  } catch (err) {
    if (!(err instanceof CouldNotCheck) || block == null) throw err;
    // A pruned node keeps no state for the anchoring block: ask at the head, and say so.
    where = `at the head (the node keeps no state for block ${block}: ${err.message})`;
    why = await walletAnswer(rpc, signer, digest, signature, "latest");
  }
  return why
    ? { ok: false, detail: `${key}; ${why} (ERC-1271 isValidSignature ${where})` }
    : { ok: true, detail: `contract wallet ${signer} accepts it (ERC-1271 isValidSignature ${where})` };
}

/** Why contract `wallet` does not accept `signature` over `digest` at block tag `at`, or "". */
async function walletAnswer(rpc, wallet, digest, signature, at) {
  const code = await rpc("eth_getCode", [wallet, at]);
  if (!code || code === "0x") return `${wallet} holds no code`;
  const data = ERC1271 + ERC1271_ARGS.encode(["bytes32", "bytes"], [digest, signature]).slice(2);
  let answer;
  try {
    answer = await rpc("eth_call", [{ to: wallet, data }, at]);
  } catch (err) {
    if (!(err instanceof Reverted)) throw err;
    return "its isValidSignature reverted";
  }
  const ok = typeof answer === "string" && answer.toLowerCase().startsWith(ERC1271 + "0".repeat(56));
  return ok ? "" : `contract wallet ${wallet} does not accept it (${String(answer).slice(0, 10)})`;
}

/**
 * Check `bundle` against the chain behind `rpc` (a JSON-RPC call function) with the
 * trust anchors of `manifest`. Returns {verdict, checks, organisation, passport_status,
 * current_version}; throws CouldNotCheck when it cannot answer.
 */
export async function verifyBundle(bundle, manifest, rpc, { confirmations = 1 } = {}) {
  checkShape(bundle);
  const trust = trustAnchors(manifest);
  const checks = [];
  const add = (id, ok, item, detail) => {
    checks.push({ id, ok: !!ok, item: item ?? null, detail });
    return !!ok;
  };
  const result = { checks, organisation: null, passport_status: null, current_version: null };

  const nodeChain = Number(BigInt(await rpc("eth_chainId", [])));
  const chainOk = add(
    "trust.chain_id",
    trust.chainId === nodeChain && nodeChain === bundle.chain_id,
    null,
    `manifest chain ${trust.chainId}, node chain ${nodeChain}, bundle chain ${bundle.chain_id}`,
  );
  for (const [name, addr] of Object.entries(bundle.contracts)) {
    const pinned = trust.addresses[name];
    add(
      "trust.contracts",
      pinned && same(pinned, addr),
      name,
      pinned
        ? `bundle names ${addr}, the manifest pins ${pinned}`
        : `bundle names ${addr}, the manifest pins no ${name}`,
    );
  }
  add(
    "trust.anchorer",
    same(trust.anchorer, bundle.anchorer),
    null,
    `bundle names anchorer ${bundle.anchorer}, the manifest pins ${trust.anchorer}`,
  );
  // A bundle naming contracts the user does not trust is answered by the trust checks alone.
  if (!chainOk || checks.some((c) => !c.ok)) return finish(result);

  const chain = new Chain(rpc, trust.addresses, trust.deployedAt);
  const pid = bundle.subject.passport_id.toLowerCase();
  const gtin = bundle.subject.gs1_path.slice(4, 18);
  const p = bundle.passport;

  // Passport.
  const idHash = keccak256(toUtf8Bytes(bundle.subject.gs1_path));
  add("passport.id", same(idHash, pid), null, `keccak256("${bundle.subject.gs1_path}") = ${idHash}`);
  const text = canonicalize(p.document);
  const docHash = keccak256(toUtf8Bytes(text));
  add("passport.document_hash", same(docHash, p.canonical_hash), null, `keccak256(JCS(document)) = ${docHash}; bundle says ${p.canonical_hash}`);
  const version = await chain.tryCall("ProductPassportRegistry", "versionOf", [pid, p.version]);
  if (version.error) {
    add("passport.on_chain_hash", false, null, version.error);
  } else {
    const onChain = version.value[0].documentHash;
    add("passport.on_chain_hash", same(onChain, docHash), null, `versionOf(passport, ${p.version}).documentHash = ${onChain}; the document hashes to ${docHash}`);
  }
  const head = await chain.tryCall("ProductPassportRegistry", "passportOf", [pid]);
  const owner = await chain.tryCall("OrganisationRegistry", "ownerOfGtin", [gtin]);
  const ownerOrg = owner.error ? null : owner.value[0];
  let statusFailure = null;
  if (head.error) {
    add("passport.current_version", false, null, head.error);
    add("passport.status", false, null, head.error);
    statusFailure = "INVALID";
    add("passport.issuer", false, null, head.error);
  } else {
    const h = head.value[0];
    const current = Number(h.version);
    const status = Number(h.status);
    result.current_version = current;
    result.passport_status = (STATUSES[status] || String(status)).toLowerCase();
    add("passport.current_version", current === p.version, null, current === p.version ? `version ${p.version} is the current one` : `the bundle holds version ${p.version}; the current version is ${current}`);
    if (status === 1) {
      add("passport.status", true, null, "passportOf(passport).status = Active");
    } else if (status === 2 || status === 3) {
      const reason = await statusReason(chain, pid, status);
      add("passport.status", false, null, `passportOf(passport).status = ${STATUSES[status]}, reason code ${h.reasonCode}${reason ? `: ${reason}` : ""}`);
      statusFailure = status === 2 ? "RECALLED" : "REVOKED";
    } else {
      add("passport.status", false, null, `passportOf(passport).status = ${STATUSES[status] || status}: no such passport`);
      statusFailure = "INVALID";
    }
    const issuerKey = await chain.keyOf(h.issuer);
    const name = await chain.orgName(issuerKey.orgId);
    result.organisation = name;
    const ok = same(h.issuer, p.issuer) && ownerOrg !== null && ownerOrg !== ZeroHash && issuerKey.orgId === ownerOrg;
    add(
      "passport.issuer",
      ok,
      null,
      `passportOf.issuer = ${h.issuer}, bundle says ${p.issuer}; the key belongs to ${name ? `"${name}"` : "no organisation"} (${issuerKey.orgId}); ` +
        (owner.error ? owner.error : `GTIN ${gtin} is owned by ${ownerOrg}`),
    );
  }

  // Supply events.
  const latest = Number(BigInt(await rpc("eth_blockNumber", [])));
  for (const event of bundle.events ?? []) {
    await checkEvent({ event, bundle, chain, trust, pid, ownerOrg, latest, confirmations, add });
  }

  // Milestones.
  const shipments = IFACE.ShipmentRegistry;
  const recorded = shipments.getEvent("MilestoneRecorded");
  for (const m of bundle.milestones ?? []) {
    const found = await chain.canonicalReceipt(m.tx_hash, m.block_number);
    if (found.why) {
      add("milestone.recorded", false, m.record_hash, found.why);
      continue;
    }
    const match = found.receipt.logs.find((log) => {
      if (!same(log.address, trust.addresses.ShipmentRegistry) || !same(log.topics[0], recorded.topicHash)) return false;
      const ev = shipments.parseLog(log);
      return (
        same(ev.args.shipmentId, m.shipment_id) &&
        same(ev.args.signer, m.signer) &&
        same(ev.args.recordHash, m.record_hash) &&
        CONTRACTS.milestones[Number(ev.args.milestone)] === m.milestone
      );
    });
    add(
      "milestone.recorded",
      !!match,
      m.record_hash,
      match
        ? `MilestoneRecorded(${m.milestone}) by ${m.signer} in block ${m.block_number} of the pinned ShipmentRegistry`
        : `transaction ${m.tx_hash} holds no MilestoneRecorded(${m.shipment_id}, ${m.milestone}, ${m.signer}, recordHash ${m.record_hash}) from the pinned ShipmentRegistry`,
    );
  }
  result.statusFailure = statusFailure;
  return finish(result);
}

async function statusReason(chain, pid, status) {
  const iface = IFACE.ProductPassportRegistry;
  const event = iface.getEvent(status === 2 ? "PassportRecalled" : "PassportRevoked");
  const logs = await chain.rpc("eth_getLogs", [
    { address: chain.addresses.ProductPassportRegistry, topics: [event.topicHash, pid], fromBlock: "0x" + chain.deployedAt.ProductPassportRegistry.toString(16), toBlock: "latest" },
  ]);
  if (!logs || !logs.length) return null;
  return iface.parseLog(logs[logs.length - 1]).args.reason;
}

async function checkEvent({ event, bundle, chain, trust, pid, ownerOrg, latest, confirmations, add }) {
  const item = event.digest;
  const typed = event.typed_data;
  let digest = null;
  let problem = null;
  try {
    if (typed.primaryType !== "SupplyEvent") throw new Error(`primaryType is ${typed.primaryType}`);
    digest = typedDigest(typed);
  } catch (err) {
    problem = err.message;
  }
  const dom = typed.domain;
  const domainOk =
    dom.name === EVENTS_DOMAIN.name &&
    String(dom.version) === EVENTS_DOMAIN.version &&
    Number(dom.chainId) === trust.chainId &&
    same(dom.verifyingContract, trust.addresses.AnchorRegistry);
  add(
    "event.digest",
    digest && same(digest, event.digest) && domainOk && same(typed.message.subject, pid),
    item,
    problem
      ? `typed data cannot be hashed: ${problem}`
      : `EIP-712 digest ${digest} in domain "${dom.name}" chain ${dom.chainId} contract ${dom.verifyingContract}; subject ${typed.message.subject}`,
  );
  const anchor = event.anchor;
  const signed = await signedBy(chain.rpc, event.signer, event.digest, event.signature, anchor ? anchor.block_number : null);
  add("event.signature", signed.ok, item, `${signed.detail}; bundle says ${event.signer}`);

  if (!anchor) {
    add("event.anchored", false, item, "the event is not anchored yet");
    return;
  }
  const leaf = standardLeaf(event.digest);
  let folds = false;
  try {
    folds = StandardMerkleTree.verify(event.root, ["bytes32"], [event.digest], event.proof);
  } catch {
    folds = false;
  }
  add("event.merkle", same(leaf, event.leaf) && folds, item, `leaf keccak256(keccak256(digest)) = ${leaf}; the proof ${folds ? "folds" : "does not fold"} to root ${event.root}`);

  // The registry is open and keyed by sender: only the pinned anchorer's anchor counts.
  const registry = IFACE.AnchorRegistry;
  const anchorer = trust.anchorer;
  const record = await chain.tryCall("AnchorRegistry", "anchorOf", [anchorer, event.root]);
  const verified = await chain.tryCall("AnchorRegistry", "verify", [anchorer, event.root, event.leaf, event.proof]);
  const block = anchor.block_number;
  const found = await chain.canonicalReceipt(anchor.tx_hash, block);
  let anchoredOk = false;
  let why;
  const anchoredAt = record.error ? 0 : Number(record.value[0].blockNumber);
  if (record.error || verified.error) {
    why = record.error || verified.error;
  } else if (anchoredAt === 0) {
    why = `the pinned anchorer ${anchorer} never anchored root ${event.root} in the pinned AnchorRegistry`;
  } else if (!verified.value[0]) {
    why = `the pinned AnchorRegistry.verify(${anchorer}, root, leaf, proof) is false`;
  } else if (anchoredAt !== block) {
    why = `the pinned anchorer ${anchorer} anchored root ${event.root} in block ${anchoredAt}, the bundle says ${block}`;
  } else if (found.why) {
    why = found.why;
  } else {
    const topic = registry.getEvent("Anchored").topicHash;
    // Anchored(address indexed anchorer, bytes32 root): the anchorer in topic 1, the root as data.
    const by = found.receipt.logs
      .filter((log) => same(log.address, trust.addresses.AnchorRegistry) && log.topics.length === 2 && same(log.topics[0], topic) && same(log.data, event.root))
      .map((log) => getAddress("0x" + log.topics[1].slice(-40)));
    anchoredOk = by.some((a) => same(a, anchorer));
    why = anchoredOk
      ? `root ${event.root} anchored by the pinned anchorer ${anchorer} in transaction ${anchor.tx_hash}, canonical block ${block} of the pinned AnchorRegistry`
      : `transaction ${anchor.tx_hash} holds no Anchored(${event.root}) by the pinned anchorer ${anchorer}` + (by.length ? `; it was anchored by ${by.join(", ")}` : "");
  }
  add("event.anchored", anchoredOk, item, why);
  const depth = latest - block + 1;
  add("event.confirmations", depth >= confirmations, item, `${depth} confirmation(s) at block ${latest}; ${confirmations} required`);

  const key = await chain.keyOf(event.signer);
  const orgName = await chain.orgName(key.orgId);
  add(
    "event.signer_key",
    activeAt(key, block),
    item,
    key.orgId === ZeroHash
      ? `OrganisationRegistry knows no key ${event.signer}`
      : `key of "${orgName}" valid from block ${key.addedAt}${key.revokedAt ? ` until block ${key.revokedAt}` : ""}; batch anchored in block ${block}`,
  );
  // The organisation the key spoke for at the anchoring block (none if it was not active then).
  const org = activeAt(key, block) ? key.orgId : ZeroHash;
  const auth = await authorised({ event, bundle, chain, trust, pid, ownerOrg, block, org });
  add("event.authorised", auth.ok, item, auth.detail);
}

function standardLeaf(digest) {
  // OpenZeppelin StandardMerkleTree leaf of the single bytes32 value `digest`.
  return keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32"], [digest])));
}

/** A SubjectDelegation of the bundle, checked; {orgId, detail} or {why}. */
async function delegation({ bundle, index, chain, trust, pid, ownerOrg, block }) {
  const d = (bundle.delegations ?? [])[index];
  if (!isObj(d) || !isObj(d.typed_data) || typeof d.signature !== "string") return { why: `delegation ${index} is not in the bundle` };
  const t = d.typed_data;
  const dom = t.domain || {};
  if (t.primaryType !== "SubjectDelegation") return { why: `delegation ${index} is a ${t.primaryType}` };
  if (!(dom.name === EVENTS_DOMAIN.name && Number(dom.chainId) === trust.chainId && same(dom.verifyingContract, trust.addresses.AnchorRegistry))) {
    return { why: `delegation ${index} is signed for another domain (chain ${dom.chainId}, contract ${dom.verifyingContract})` };
  }
  const m = t.message;
  let signed;
  try {
    signed = await signedBy(chain.rpc, m.issuer, typedDigest(t), d.signature, block);
  } catch (err) {
    if (err instanceof CouldNotCheck) throw err;
    return { why: `delegation ${index}: bad signature (${err.shortMessage || err.message})` };
  }
  if (!signed.ok) return { why: `delegation ${index} is not its issuer ${m.issuer}'s: ${signed.detail}` };
  const issuerKey = await chain.keyOf(m.issuer);
  if (!(issuerKey.orgId === ownerOrg && activeAt(issuerKey, block))) {
    return { why: `delegation ${index} is signed by ${m.issuer}, not a key of the GTIN owner active at block ${block}` };
  }
  if (!(same(m.subject, pid) || same(m.subject, ZeroHash))) return { why: `delegation ${index} is about subject ${m.subject}` };
  return { orgId: orgIdOf(m.delegate), detail: `delegated by ${m.issuer} to "${m.delegate}" (delegation ${index})` };
}

async function authorised({ event, bundle, chain, trust, pid, ownerOrg, block, org }) {
  const auth = event.authorisation;
  const key = { orgId: org };
  if (org === ZeroHash) return { ok: false, detail: `the signer spoke for no organisation at block ${block}` };
  if (!ownerOrg || ownerOrg === ZeroHash) return { ok: false, detail: "no organisation owns the GTIN's company prefix" };
  const ctx = { bundle, chain, trust, pid, ownerOrg, block };
  if (auth.basis === "issuer") {
    return { ok: key.orgId === ownerOrg, detail: `basis issuer: the signer's organisation ${key.orgId}, the GTIN owner ${ownerOrg}` };
  }
  if (auth.basis === "delegate") {
    const d = await delegation({ ...ctx, index: auth.delegation });
    if (d.why) return { ok: false, detail: `basis delegate: ${d.why}` };
    return { ok: d.orgId === key.orgId, detail: `basis delegate: ${d.detail}; the signer's organisation is ${key.orgId}, the delegate's ${d.orgId}` };
  }
  if (auth.basis === "shipment_party") {
    if (!isHex(auth.shipment_id, 32)) return { ok: false, detail: "basis shipment_party without a shipment_id" };
    const roles = await chain.tryCall("ShipmentRegistry", "rolesOf", [auth.shipment_id, getAddress(event.signer.toLowerCase())]);
    if (roles.error || Number(roles.value[0]) === 0) {
      return { ok: false, detail: `basis shipment_party: ${roles.error || `${event.signer} is no party of shipment ${auth.shipment_id}`}` };
    }
    const shipment = await chain.tryCall("ShipmentRegistry", "shipment", [auth.shipment_id]);
    if (shipment.error) return { ok: false, detail: `basis shipment_party: ${shipment.error}` };
    const seller = shipment.value[0].seller;
    const sellerKey = await chain.keyOf(seller);
    if (auth.delegation == null) {
      return { ok: sellerKey.orgId === ownerOrg, detail: `basis shipment_party: party of shipment ${auth.shipment_id}, whose seller ${seller} belongs to ${sellerKey.orgId}; the GTIN owner is ${ownerOrg}` };
    }
    const d = await delegation({ ...ctx, index: auth.delegation });
    if (d.why) return { ok: false, detail: `basis shipment_party: ${d.why}` };
    return { ok: sellerKey.orgId === d.orgId, detail: `basis shipment_party: party of shipment ${auth.shipment_id}, seller ${seller} of ${sellerKey.orgId}; ${d.detail}` };
  }
  return { ok: false, detail: `unknown authorisation basis ${JSON.stringify(auth.basis)}` };
}

function finish(result) {
  const failing = result.checks.filter((c) => !c.ok).map((c) => c.id);
  const soft = new Set(["passport.current_version", "passport.status"]);
  const statusFailure = result.statusFailure;
  delete result.statusFailure;
  let verdict = "VALID";
  if (failing.some((id) => !soft.has(id)) || statusFailure === "INVALID") verdict = "INVALID";
  else if (statusFailure) verdict = statusFailure;
  else if (failing.includes("passport.current_version")) verdict = "SUPERSEDED";
  result.verdict = verdict;
  return result;
}
