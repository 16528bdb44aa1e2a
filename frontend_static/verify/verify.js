// The page around verifier.js: read the bundle (file, pasted JSON or a URL), the
// RPC URL and the trust manifest (URL or file), run the checks, list them.
// Query parameters prefill the form: ?bundle=URL&rpc=URL&trust=URL.
import { CouldNotCheck, jsonRpc, trustAnchors, verifyBundle } from "./verifier.js";

const $ = (id) => document.getElementById(id);
const LABELS = {
  VALID: "VALID: every check passed",
  INVALID: "INVALID: the bundle does not hold",
  SUPERSEDED: "SUPERSEDED: a newer version of this passport exists",
  RECALLED: "RECALLED: the product was recalled",
  REVOKED: "REVOKED: the passport was withdrawn",
  "could not check": "Could not check",
};

async function readFile(input) {
  const file = input.files && input.files[0];
  return file ? file.text() : null;
}

function parse(text, what) {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CouldNotCheck(`the ${what} is not JSON (${err.message})`);
  }
}

async function fetchJson(url, what) {
  let response;
  try {
    response = await fetch(new URL(url, location.href), { headers: { Accept: "application/json" } });
  } catch (err) {
    throw new CouldNotCheck(`the ${what} at ${url} cannot be fetched (${err.message})`);
  }
  if (!response.ok) throw new CouldNotCheck(`the ${what} at ${url} answered HTTP ${response.status}`);
  return parse(await response.text(), what);
}

async function loadBundle() {
  const fromFile = await readFile($("bundle-file"));
  if (fromFile !== null) return parse(fromFile, "bundle file");
  const pasted = $("bundle-text").value.trim();
  if (pasted) return parse(pasted, "pasted bundle");
  const url = $("bundle-url").value.trim();
  if (!url) throw new CouldNotCheck("give a bundle: a file, its JSON, or a URL");
  const answer = await fetchJson(url, "bundle");
  // A Digital Link asked for JSON answers {"passport", "proof_bundle"}.
  return answer && answer.proof_bundle ? answer.proof_bundle : answer;
}

async function loadManifest() {
  const file = $("trust-file").files && $("trust-file").files[0];
  if (file) return { manifest: parse(await file.text(), "manifest file"), source: `the file ${file.name}` };
  const url = $("trust-url").value.trim();
  if (!url) throw new CouldNotCheck("name a trust manifest: a URL or a file");
  return { manifest: await fetchJson(url, "manifest"), source: new URL(url, location.href).href };
}

function show(outcome) {
  $("result").hidden = false;
  const verdict = $("verdict");
  verdict.dataset.verdict = outcome.verdict;
  verdict.textContent = LABELS[outcome.verdict] || outcome.verdict;
  const parts = [];
  if (outcome.problem) parts.push(outcome.problem);
  if (outcome.organisation) parts.push(`Issued by ${outcome.organisation} (verified name in the organisation registry).`);
  if (outcome.passport_status) parts.push(`Passport status on chain: ${outcome.passport_status}.`);
  if (outcome.current_version) parts.push(`Current version: ${outcome.current_version}.`);
  $("summary").textContent = parts.join(" ");
  $("trusted").textContent = outcome.trusted || "";
  const list = $("checks");
  list.replaceChildren();
  for (const check of outcome.checks || []) {
    const li = document.createElement("li");
    li.dataset.id = check.id;
    li.dataset.ok = String(check.ok);
    if (check.item) li.dataset.item = check.item;
    const mark = document.createElement("span");
    mark.className = "mark";
    mark.textContent = check.ok ? "✓ passed " : "✗ FAILED ";
    const id = document.createElement("code");
    id.textContent = check.id + (check.item ? ` (${check.item})` : "");
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = check.detail;
    li.append(mark, id, detail);
    list.append(li);
  }
  // The whole outcome for machines (the browser tests read it).
  $("result").dataset.outcome = JSON.stringify(outcome);
  $("result").dataset.done = "true";
  $("result").scrollIntoView({ block: "start" });
}

async function run(event) {
  event.preventDefault();
  $("result").dataset.done = "false";
  $("verify").disabled = true;
  let outcome;
  try {
    const rpcUrl = $("rpc-url").value.trim();
    if (!rpcUrl) throw new CouldNotCheck("name the JSON-RPC URL of a node of the product's chain");
    const node = new URL(rpcUrl, location.href).href;
    const bundle = await loadBundle();
    const { manifest, source } = await loadManifest();
    const confirmations = Math.max(1, parseInt($("confirmations").value, 10) || 1);
    outcome = await verifyBundle(bundle, manifest, jsonRpc(node), { confirmations });
    const pinned = trustAnchors(manifest);
    // Say what the verdict rests on: the manifest's contracts and the node that was asked.
    outcome.trusted = `Trusted: chain ${pinned.chainId} and the contracts of the manifest from ${source} (AnchorRegistry ${pinned.addresses.AnchorRegistry}, anchors by ${pinned.anchorer}); chain read through ${node}.`;
  } catch (err) {
    const known = err instanceof CouldNotCheck;
    outcome = { verdict: "could not check", checks: [], problem: known ? err.message : `unexpected error: ${err.message}` };
  } finally {
    $("verify").disabled = false;
  }
  show(outcome);
}

function setup() {
  const params = new URLSearchParams(location.search);
  $("bundle-url").value = params.get("bundle") || "";
  $("rpc-url").value = params.get("rpc") || "";
  // Default trust: the manifest this site publishes; name another to trust someone else.
  $("trust-url").value = params.get("trust") || new URL("/.well-known/waymark/deployment.json", location.href).href;
  // A link can choose the node and the manifest, and a forger's link would name their
  // own: say so above the form, naming them, so the person checks or replaces them.
  const chosen = ["rpc", "trust"].filter((k) => params.get(k));
  if (chosen.length) {
    const named = chosen.map((k) => `${k === "rpc" ? "the node" : "the trust manifest"} ${params.get(k)}`);
    const notice = $("prefilled");
    notice.textContent = `The link that opened this page chose ${named.join(" and ")}. Anyone can make such a link: use them only if you trust them, or replace them with your own.`;
    notice.hidden = false;
  }
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) $("bundle-file").files = e.dataTransfer.files;
  });
  $("form").addEventListener("submit", run);
}

setup();
