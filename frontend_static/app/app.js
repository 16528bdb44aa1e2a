// The field app's browser side: wallet sign-in (EIP-4361 via personal_sign), milestone
// review and signing (eth_signTypedData_v4 through the page's EIP-1193 provider), evidence
// photos (up to 8, each SHA-256'd in the browser and uploaded to the service's evidence
// store under that hash; one hash over them all is signed), every signed item (milestone, handover, new shipment)
// kept on the phone until the service has it: offline or answered 5xx it waits in
// localStorage and is sent again when the phone is back online or the page is loaded
// (the service answers a resend with the first write); SSCC labels scanned with the
// camera (BarcodeDetector where present, else npm jsqr). Bundled by scripts/build_app.mjs.
import { sha256, hexlify, toUtf8Bytes } from "ethers";
import jsQR from "jsqr";

const PENDING_KEY = "waymark.app.pending";
const $ = (selector) => document.querySelector(selector);

function say(el, text, kind) {
  if (!el) return;
  el.textContent = text;
  el.dataset.kind = kind || "info";
}

function wallet() {
  const eth = window.ethereum;
  if (!eth || typeof eth.request !== "function") {
    throw new Error("No wallet found. Open this page in your wallet app's browser.");
  }
  return eth;
}

// Wallet refusals (EIP-1193 code 4001) and other failures, in words for the person holding the phone.
function walletError(err) {
  if (err && (err.code === 4001 || err.code === "ACTION_REJECTED")) {
    return "You declined in the wallet; nothing was signed.";
  }
  return (err && err.message) || String(err);
}

// Ask the wallet to sign typed data as `signer` on the chain the data names; null, with the
// reason shown in `status`, when the wallet is on another chain or does not sign.
async function signTyped(typed, signer, what, status) {
  try {
    const eth = wallet();
    const chainId = parseInt(await eth.request({ method: "eth_chainId" }), 16);
    if (chainId !== typed.domain.chainId) {
      say(status, `Wrong network: the wallet is on chain ${chainId}; switch it to chain ${typed.domain.chainId}.`, "error");
      return null;
    }
    say(status, `Check the ${what} in your wallet and sign it.`);
    return await eth.request({
      method: "eth_signTypedData_v4",
      params: [signer, JSON.stringify(typed)],
    });
  } catch (err) {
    say(status, walletError(err), "error");
    return null;
  }
}

async function api(path, body) {
  const init = body === undefined
    ? { headers: { Accept: "application/json" } }
    : {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      };
  const response = await fetch(path, { credentials: "same-origin", ...init });
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

function detail(result) {
  const d = result.data && result.data.detail;
  return typeof d === "string" ? d : `the service answered ${result.status}`;
}

// A refusal in words for the person at the dock; the service's own words otherwise.
function refusal(result) {
  const error = result.data && result.data.error;
  const text = detail(result);
  if (typeof error === "string" && error.endsWith("SignatureExpired")) {
    return "The signature's deadline passed before it reached the service; nothing was recorded. Review and sign again.";
  }
  if (/^key not registered/i.test(text)) return text;
  if (/is not a (signer )?key of/.test(text)) return `Key not registered: ${text}`;
  if (/does not hold .* in OrganisationRegistry/.test(text)) return `Role not allowed: ${text}`;
  return text;
}

// -- sign-in -----------------------------------------------------------------

async function signIn() {
  const status = $("#sign-in-status");
  try {
    const eth = wallet();
    say(status, "Asking the wallet for your address…");
    const [address] = await eth.request({ method: "eth_requestAccounts" });
    const chainId = parseInt(await eth.request({ method: "eth_chainId" }), 16);
    const issued = await api("/app/api/sign-in/message", { address, chainId });
    if (!issued.ok) return say(status, detail(issued), "error");
    say(status, "Check the message in your wallet and sign it.");
    const signature = await eth.request({
      method: "personal_sign",
      params: [hexlify(toUtf8Bytes(issued.data.message)), address],
    });
    const done = await api("/app/api/sign-in", { message: issued.data.message, signature });
    if (!done.ok) return say(status, detail(done), "error");
    say(status, `Signed in for ${done.data.org_name}.`, "ok");
    window.location.reload();
  } catch (err) {
    say(status, walletError(err), "error");
  }
}

async function signOut() {
  await api("/app/api/sign-out", {});
  window.location.assign("/app");
}

// -- signed items kept on the phone ------------------------------------------------

const NOUNS = { milestone: "milestone", handover: "handover", shipment: "shipment" };

function pending() {
  try {
    const items = JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
    return Array.isArray(items) ? items : [];
  } catch (_) {
    return [];
  }
}

function savePending(items) {
  localStorage.setItem(PENDING_KEY, JSON.stringify(items));
  const banner = $("#pending");
  if (banner) {
    const counts = {};
    for (const item of items) counts[item.kind || "milestone"] = (counts[item.kind || "milestone"] || 0) + 1;
    const parts = Object.entries(counts).map(([kind, n]) => `${n} signed ${NOUNS[kind] || kind}(s)`);
    banner.hidden = items.length === 0;
    banner.textContent = `${parts.join(", ")} waiting on this phone to be sent.`;
  }
}

function keep(item) {
  const items = pending().filter((i) => !(i.path === item.path && JSON.stringify(i.body) === JSON.stringify(item.body)));
  savePending([...items, item]);
}

function forget(item) {
  savePending(pending().filter((i) => !(i.path === item.path && JSON.stringify(i.body) === JSON.stringify(item.body))));
}

// Send one signed item. It stays on the phone until the service answers: kept when the
// network is down or the service answers 5xx, dropped once accepted (202) or refused
// for good (4xx, said in words). Returns the answer, or null while it waits.
async function deliver(item, status) {
  keep(item);
  let result = null;
  try {
    result = navigator.onLine ? await api(item.path, item.body) : null;
  } catch (_) {
    result = null;
  }
  if (!result || result.status >= 500) {
    const why = result ? `the service answered ${result.status}` : "you are offline";
    say(status, `Signed and saved on this phone (${why}); it is sent when you are back online.`, "info");
    return null;
  }
  forget(item);
  if (!result.ok) {
    say(status, refusal(result), "error");
    return null;
  }
  return result;
}

// Send what was kept; each accepted item is followed until final.
async function flushPending(status) {
  if (!navigator.onLine) return;
  for (const item of pending()) {
    const result = await deliver(item, status);
    if (!result) continue;
    if (item.kind === "handover") followHandover(item.body.milestone.shipmentId, status);
    else follow(item, result, status);
  }
}

// -- the steps every signed form shares: review, sign, submit, follow ----------------

function showErrors(form, errors) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const [name, text] of Object.entries(errors || {})) {
    const el = form.querySelector(`#e-${name}`);
    if (el) el.textContent = text;
  }
}

// Review: the service checks every field (each error shown next to its field) and answers
// the typed data to sign with a plain-language summary; null when there is nothing to sign.
async function review(form, path, fields, ui) {
  ui.summary.hidden = true;
  say(ui.status, "");
  const result = await api(path, fields).catch(() => null);
  if (!result) {
    say(ui.status, `You are offline: the review needs the service once${ui.offlineWhy || ""}.`, "error");
    return null;
  }
  if (!result.ok) {
    say(ui.status, refusal(result), "error");
    return null;
  }
  showErrors(form, result.data.errors);
  if (!result.data.typed_data) return null;
  ui.summaryText.textContent = result.data.summary;
  ui.summary.hidden = false;
  return result.data;
}

// Wait before the next look at something the service is still doing: soon after it was
// sent (a write often lands within a second), then less often, for about ten minutes.
const POLL_FIRST_MS = 250;
const POLL_MAX_MS = 2000;
const POLL_FOR_MS = 600000;
async function* polls() {
  const end = Date.now() + POLL_FOR_MS;
  for (let wait = POLL_FIRST_MS; ; wait = Math.min(wait * 2, POLL_MAX_MS)) {
    yield;
    if (Date.now() >= end) return;
    await new Promise((r) => setTimeout(r, wait));
  }
}

// Poll a relayed write until it is final or failed, saying where it stands.
async function watch(relayId, status) {
  for await (const _ of polls()) {
    const result = await api(`/app/api/relay/${relayId}`).catch(() => null);
    if (result && result.ok) {
      const s = result.data.status;
      say(status, `${status.dataset.what || "Milestone"} ${s}${s === "final" ? ": recorded on chain." : "…"}`, s === "failed" ? "error" : s === "final" ? "ok" : "info");
      if (s === "failed") return say(status, `Failed: ${result.data.last_error || "reverted"}`, "error");
      if (s === "final") return;
    }
  }
}

function follow(item, result, status) {
  if (status) status.dataset.what = item.what;
  say(status, `${item.what} queued…`);
  return watch(result.data.relay_id, status);
}

// Submit a signed item and follow it until final; false while it waits on the phone or
// when the service refused it (said in `status`). Items with `keep: false` are not kept
// on the phone: offline, the person signs again later.
async function submit(item, status) {
  let result;
  if (item.keep === false) {
    result = await api(item.path, item.body).catch(() => null);
    if (!result) say(status, "You are offline; sign again once you are back online.", "error");
    else if (!result.ok) say(status, refusal(result), "error");
    if (!result || !result.ok) return false;
  } else {
    result = await deliver(item, status);
    if (!result) return false;
  }
  await follow(item, result, status);
  return true;
}

// A form whose review is signed in the wallet: `signer(draft)` names the key that signs,
// `signed(draft, signature)` sends what was signed.
function signedForm(form, ui, { draftPath, fields, what, signer, signed }) {
  let draft = null;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    draft = await review(form, draftPath, fields(), ui);
  });
  ui.sign.addEventListener("click", async () => {
    if (!draft) return;
    const signature = await signTyped(draft.typed_data, signer(draft), what, ui.status);
    if (signature === null) return;
    ui.summary.hidden = true;
    await signed(draft, signature);
  });
}

// -- milestones ----------------------------------------------------------------

// UN/LOCODE search: the datalist under a location field offers the service's matches
// for what has been typed (a code or the start of a place name).
function locationSearch(input, list) {
  const route = Array.from(list.options, (o) => o.value);
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = input.value.trim();
      if (q.length < 2 || q === asked) return;
      asked = q;
      const result = await api(`/v1/locations?q=${encodeURIComponent(q)}&limit=10`).catch(() => null);
      if (!result || !result.ok || asked !== q) return;
      const found = result.data.items.map((l) => [l.code, `${l.name}, ${l.country_name}`]);
      const codes = new Set(found.map(([code]) => code));
      list.replaceChildren(
        ...found.concat(route.filter((c) => !codes.has(c)).map((c) => [c, "on this shipment's route"])).map(([code, label]) => {
          const option = document.createElement("option");
          option.value = code;
          option.label = label;
          option.textContent = label;
          return option;
        }),
      );
    }, 250);
  });
}

const MAX_PHOTOS = 8;

// Evidence photos: each hashed here (SHA-256) and kept by the service under that hash,
// which it recomputes; the milestone signs one hash over all of them, in this order.
// `changed` runs when the list changes (a reviewed summary no longer holds).
function photoPicker(shipment, changed) {
  const input = $("#f-photo");
  const list = $("#photo-list");
  const note = $("#photo-hash");
  const error = $("#e-evidence");
  const photos = [];
  const show = () => {
    changed();
    list.replaceChildren(
      ...photos.map((p, i) => {
        const li = document.createElement("li");
        li.textContent = `${i + 1}. ${p.name} · ${p.hash.slice(0, 10)}…${p.hash.slice(-8)}`;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Remove";
        remove.addEventListener("click", () => {
          photos.splice(photos.indexOf(p), 1);
          show();
        });
        li.append(remove);
        return li;
      }),
    );
    note.textContent = photos.length
      ? `${photos.length} photo${photos.length > 1 ? "s" : ""} kept by the service (only their fingerprints are signed).`
      : "";
  };
  const send = async (file) => {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const hash = sha256(bytes);
    if (photos.some((p) => p.hash === hash)) return `${file.name} is already attached.`;
    const response = await fetch(`/app/api/shipments/${shipment}/evidence/${hash}`, {
      method: "PUT",
      credentials: "same-origin",
      headers: { "Content-Type": file.type || "application/octet-stream", Accept: "application/json" },
      body: bytes,
    }).catch(() => null);
    if (!response) return "You are offline: attach the photo again once you are back online.";
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      return (body && typeof body.detail === "string" && body.detail) || `The photo was refused (${response.status}).`;
    }
    photos.push({ hash, name: file.name });
    return "";
  };
  input.addEventListener("change", async () => {
    const files = Array.from(input.files || []);
    error.textContent = "";
    if (photos.length + files.length > MAX_PHOTOS) {
      error.textContent = `At most ${MAX_PHOTOS} photos; remove one first.`;
      input.value = "";
      return;
    }
    note.textContent = "Sending the photos…";
    const refused = [];
    for (const file of files) {
      const why = await send(file);
      if (why) refused.push(why);
    }
    input.value = "";
    error.textContent = refused.join(" ");
    show();
  });
  return () => photos.map((p) => p.hash);
}

function milestoneForm(form) {
  const shipment = form.dataset.shipment;
  const status = $("#form-status");
  const ui = { status, summary: $("#summary"), summaryText: $("#summary-text"), sign: $("#sign"), offlineWhy: ", to read your next nonce" };
  locationSearch($("#f-location"), $("#locodes"));
  const attached = photoPicker(shipment, () => {
    ui.summary.hidden = true;
  });
  form.querySelector("#f-milestone").addEventListener("change", (e) => {
    const option = e.target.selectedOptions[0];
    $("#reason-row").hidden = e.target.value !== "EXCEPTION";
    $("#receiver-row").hidden = !(option && option.dataset.cosigned);
    ui.summary.hidden = true;
  });
  signedForm(form, ui, {
    draftPath: `/app/api/shipments/${shipment}/milestones/draft`,
    fields: () => {
      const data = new FormData(form);
      const field = (name) => data.get(name) || "";
      return {
        milestone: field("milestone"),
        counterparty: field("counterparty"),
        location: field("location"),
        weight_kg: field("weight_kg"),
        reason: field("reason"),
        evidence: attached(),
      };
    },
    what: "milestone",
    signer: (draft) => draft.submission.signer,
    signed: (draft, signature) => {
      if (draft.cosigned) return showHandover(draft.submission, signature, status);
      const path = `/app/api/shipments/${shipment}/milestones`;
      return submit({ kind: "milestone", what: "Milestone", path, body: { milestone: draft.submission, signature } }, status);
    },
  });
}

// -- new shipments (sellers) -------------------------------------------------------

function shipmentForm(form) {
  const status = $("#s-status");
  const ui = { status, summary: $("#s-summary"), summaryText: $("#s-summary-text"), sign: $("#s-sign") };
  signedForm(form, ui, {
    draftPath: "/app/api/shipments/draft",
    fields: () => Object.fromEntries(new FormData(form).entries()),
    what: "shipment",
    signer: (draft) => draft.submission.terms.seller,
    signed: (draft, signature) =>
      submit({ kind: "shipment", what: "Shipment", path: "/app/api/shipments", body: { ...draft.submission, signature } }, status),
  });
}

// -- passports (sellers) -----------------------------------------------------------

function passportForm(form) {
  const status = $("#p-status");
  const ui = { status, summary: $("#p-summary"), summaryText: $("#p-summary-text"), sign: $("#p-sign") };
  const amending = form.dataset.amending;
  const base = amending ? `/app/api/passports/${amending}` : "/app/api/passports";
  signedForm(form, ui, {
    draftPath: `${base}/draft`,
    fields: () => Object.fromEntries(new FormData(form).entries()),
    what: "passport",
    signer: (draft) => draft.submission.issuer,
    signed: async (draft, signature) => {
      const path = amending ? `${base}/versions` : base;
      const item = { kind: "passport", what: "Passport", path, body: { ...draft.submission, signature }, keep: false };
      if (!(await submit(item, status))) return;
      $("#p-amend-link").href = `/app/passports/${draft.typed_data.message.passportId}/amend`;
      $("#p-next").hidden = false;
    },
  });
}

// -- handovers ------------------------------------------------------------------

function b64url(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function unb64url(text) {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

// The releaser's signed milestone travels in the link's fragment (never sent to a server
// log); the receiver's phone reads it, reviews it and co-signs.
async function showHandover(milestone, signature, status) {
  const link = `${window.location.origin}/app/handover#${b64url(JSON.stringify({ milestone, signature }))}`;
  const box = $("#handover");
  const anchor = $("#handover-link");
  anchor.href = link;
  anchor.textContent = link;
  box.hidden = false;
  say(status, "Signed. Waiting for the receiver to co-sign on their phone.");
  const response = await fetch("/app/api/qr", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: link }),
  }).catch(() => null);
  if (response && response.ok) {
    $("#handover-qr").src = URL.createObjectURL(await response.blob());
  }
}

async function handoverPage(section) {
  const summary = $("#handover-summary");
  const status = $("#handover-status");
  const accept = $("#accept");
  let signed;
  try {
    signed = JSON.parse(unb64url(window.location.hash.slice(1)));
  } catch (_) {
    return say(summary, "This handover link is damaged; ask for the code again.", "error");
  }
  // Already co-signed on this phone and waiting to be sent (read before anything is sent):
  // nothing to sign again.
  const kept = pending().some((i) => i.kind === "handover" && i.body.signature === signed.signature);
  const review = await api("/app/api/handover/review", signed).catch(() => null);
  if (!review) return say(summary, "You are offline; the review needs the service.", "error");
  if (!review.ok) return say(summary, refusal(review), "error");
  say(summary, review.data.summary);
  showEvidence(signed.milestone.shipmentId.toLowerCase(), review.data.photos || []);
  accept.hidden = kept;
  accept.addEventListener("click", async () => {
    const typed = review.data.typed_data;
    const signature = await signTyped(typed, signed.milestone.counterparty, "handover", status);
    if (signature === null) return;
    const acceptance = { nonce: typed.message.nonce, deadline: typed.message.deadline, signature };
    accept.hidden = true;
    const item = { kind: "handover", what: "Handover", path: "/app/api/handover", body: { ...signed, acceptance } };
    const result = await deliver(item, status);
    if (!result) return;
    followHandover(signed.milestone.shipmentId, status);
  });
}

// The releaser's evidence photos, as thumbnails from the service's evidence store: the
// service names the ones the signed evidenceHash covers, so the receiver sees what it confirms.
function showEvidence(shipment, photos) {
  const box = $("#handover-evidence");
  if (!box || !photos.length) return;
  $("#handover-photos").replaceChildren(
    ...photos.map((hash, i) => {
      const src = `/app/api/shipments/${shipment}/evidence/${hash}`;
      const link = document.createElement("a");
      link.href = src;
      link.target = "_blank";
      link.rel = "noopener";
      const img = document.createElement("img");
      img.src = src;
      img.alt = `evidence photo ${i + 1} of ${photos.length}`;
      img.width = 72;
      img.height = 72;
      link.append(img);
      return link;
    }),
  );
  box.hidden = false;
}

// The relayed handover is the releaser's write; the receiver follows the goods instead.
async function followHandover(shipment, status) {
  say(status, "Both signatures are in; the handover is queued…");
  for await (const _ of polls()) {
    const state = await api(`/app/api/shipments/${shipment}`).catch(() => null);
    if (state && state.ok && state.data.holds) {
      return say(status, `Handover final: recorded on chain, you now hold the goods (${state.data.status}).`, "ok");
    }
  }
}

// -- SSCC label scanner ---------------------------------------------------------

// Where a scanned code leads: a GS1 Digital Link with AI 00 (on any host, under any path
// prefix) opens that shipment here; this site's handover links open the co-signing page.
function scanTarget(text) {
  let url;
  try {
    url = new URL(text);
  } catch (_) {
    return null;
  }
  const sscc = url.pathname.match(/(?:^|\/)00\/(\d{18})\/?$/);
  if (sscc) return `/app/00/${sscc[1]}`;
  if (url.origin === window.location.origin && url.pathname === "/app/handover") return url.href;
  return null;
}

// The phone's rear camera, decoded frame by frame: the browser's own BarcodeDetector
// where it has one, else jsQR on the canvas pixels.
async function scanPage(section) {
  const video = $("#scan-video");
  const status = $("#scan-status");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return say(status, "This browser gives no camera to web pages; type the SSCC below.", "error");
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch (err) {
    return say(status, `No camera: ${(err && err.message) || err}. Type the SSCC below.`, "error");
  }
  video.srcObject = stream;
  await video.play().catch(() => null);
  let detector = null;
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (_) {
      detector = null;
    }
  }
  section.dataset.decoder = detector ? "BarcodeDetector" : "jsQR";
  say(status, "Looking for a label's QR code…");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let refused = "";
  const decode = async () => {
    if (detector) {
      const codes = await detector.detect(video).catch(() => []);
      if (codes.length) return codes[0].rawValue;
    }
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return null;
    canvas.width = width;
    canvas.height = height;
    context.drawImage(video, 0, 0, width, height);
    const pixels = context.getImageData(0, 0, width, height);
    const code = jsQR(pixels.data, width, height, { inversionAttempts: "attemptBoth" });
    return code ? code.data : null;
  };
  const tick = async () => {
    const text = video.readyState >= 2 ? await decode() : null;
    if (text) {
      const target = scanTarget(text);
      if (target) {
        for (const track of stream.getTracks()) track.stop();
        say(status, "Label found; opening the shipment…", "ok");
        window.location.assign(target);
        return;
      }
      if (text !== refused) {
        refused = text;
        say(status, "This QR code is not a shipment label (GS1 Digital Link with an SSCC).", "error");
      }
    }
    setTimeout(tick, 200);
  };
  tick();
}

function start() {
  const button = $("#sign-in-button");
  if (button) button.addEventListener("click", signIn);
  const out = $("#sign-out");
  if (out) out.addEventListener("click", signOut);
  const form = $("#milestone-form");
  if (form) milestoneForm(form);
  const newShipment = $("#shipment-form");
  if (newShipment) shipmentForm(newShipment);
  const passport = $("#passport-form");
  if (passport) passportForm(passport);
  const scanner = $("#scanner");
  if (scanner) scanPage(scanner);
  const handover = $("#handover-review");
  if (handover) handoverPage(handover);
  const status = $("#form-status") || $("#s-status") || $("#handover-status") || $("#sign-in-status");
  const offline = $("#offline");
  const online = () => {
    if (offline) offline.hidden = navigator.onLine;
    flushPending(status);
  };
  window.addEventListener("online", online);
  window.addEventListener("offline", online);
  savePending(pending());
  online();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
