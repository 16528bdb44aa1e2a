// Drive the system's headless Chromium with playwright-core: one page, a list of steps.
// Input: one JSON job per line of stdin; output: one JSON result per line of stdout
// ({results, requests} or {error}), the browser kept open between jobs (see serve).
//   {executable, url, viewport: [w, h], timezone, headers, steps: [...],
//    launchArgs?: extra Chromium flags (e.g. a fake camera), permissions?: e.g. ["camera"]}
// Steps: {flow, ...} (a field-app flow, see FLOWS), {goto}, {fill, value}, {click}, {waitFor, state?} (visible, or "attached" for
//        elements never shown, e.g. datalist options), {screenshot, fullPage},
//        {text} (innerText), {count} (matching elements), {attr, name} (of each match),
//        {title} (attribute "title" of the first match), {setFiles, files} (paths for a
//        file input), {drop, name, content} (drops a file of that name and text on the
//        element, as a person dragging it from their desktop), {console} (the
//        page's console errors so far), {select, value} (picks an option),
//        {waitForText, value} (until the element's text contains value),
//        {offline: true|false} (the browser context's network), {url} (the page's URL now),
//        {reload: true}, {failRoute: glob, status} (the service's answer to matching
//        requests replaced by that status, as a failing proxy would) and {unroute: glob},
//        {walletChain: id} (the wallet switches network), {walletReject: true|false}
//        (the person declines every later request in the wallet, EIP-1193 error 4001).
// "storageIn"/"storageOut" (paths): the context starts from / saves its cookies and
// localStorage, so a later run is the same phone opened again.
// With "wallet": {privateKey, chainId, account?} the page gets an EIP-1193 provider
// (window.ethereum) whose keys stay in node: personal_sign and eth_signTypedData_v4
// are signed by an ethers Wallet; "account" (a contract wallet's address, whose
// ERC-1271 check accepts the key's signatures) is reported instead of the key's own;
// "cosigners" (more private keys) sign too, their signatures following the first key's,
// as a multi-key wallet's signature does (contracts/test/TwoKeyWallet.sol).
const { chromium } = require("playwright-core");
const { Wallet, getBytes } = require("ethers");

// Flows of the field app that many tests walk, one function each: {flow: NAME, ...args}
// runs the steps it returns (what they read is reported as if listed one by one).
const FLOWS = {
  // From the app's front page: sign in with the page's wallet (screenshot first if `shot`).
  signIn: ({ shot }) => [
    ...(shot ? [{ screenshot: shot, fullPage: true }] : []),
    { click: "#sign-in-button" },
    { waitForText: "h1", value: "My shipments" },
  ],
  // On a shipment's page (or `goto` it first): fill the milestone form (attaching the
  // `photos`, paths, if any), review it and wait for the summary to contain `summary`.
  reviewMilestone: ({ goto, milestone, counterparty, location, weight, photos, summary }) => [
    ...(goto ? [{ goto }] : []),
    { select: "#f-milestone", value: milestone },
    ...(counterparty ? [{ select: "#f-counterparty", value: counterparty }] : []),
    ...(location ? [{ fill: "#f-location", value: location }] : []),
    ...(weight ? [{ fill: "#f-weight", value: weight }] : []),
    ...(photos
      ? [
          { setFiles: "#f-photo", files: photos },
          { waitForText: "#photo-hash", value: "kept by the service" },
        ]
      : []),
    { click: "#review" },
    { waitForText: "#summary-text", value: summary },
  ],
  // A reviewed pickup or handover signed by the releaser: reads the link (attr href)
  // the receiver opens.
  release: () => [
    { click: "#sign" },
    { waitFor: "#handover-qr[src^='blob:']" },
    { attr: "#handover-link", name: "href" },
  ],
  // On the receiver's phone, the handover link open: sign in and see the review.
  openHandover: () => [
    { click: "#sign-in-button" },
    { waitForText: "h1", value: "Co-sign a handover" },
    { waitForText: "#handover-summary", value: "You accept" },
  ],
};

async function injectWallet(context, spec) {
  const key = new Wallet(spec.privateKey);
  const account = spec.account || key.address;
  const keys = [key, ...(spec.cosigners || []).map((k) => new Wallet(k))];
  const joined = async (sign) => "0x" + (await Promise.all(keys.map(sign))).map((s) => s.slice(2)).join("");
  await context.exposeBinding("__waymarkWallet", async (_source, method, params) => {
    try {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return { result: [account] };
      if (method === "eth_chainId") return { result: "0x" + Number(spec.chainId).toString(16) };
      if (spec.reject) return { error: { code: 4001, message: "User rejected the request." } };
      if (method === "personal_sign") return { result: await joined((k) => k.signMessage(getBytes(params[0]))) };
      if (method === "eth_signTypedData_v4") {
        const data = JSON.parse(params[1]);
        const types = { ...data.types };
        delete types.EIP712Domain;
        return { result: await joined((k) => k.signTypedData(data.domain, types, data.message)) };
      }
      return { error: { code: 4200, message: `unsupported method ${method}` } };
    } catch (err) {
      return { error: { code: -32603, message: String(err && err.message ? err.message : err) } };
    }
  });
  await context.addInitScript(() => {
    window.ethereum = {
      isWaymarkTestWallet: true,
      request: async ({ method, params }) => {
        const answer = await window.__waymarkWallet(method, params || []);
        if (answer.error) {
          const err = new Error(answer.error.message);
          err.code = answer.error.code;
          throw err;
        }
        return answer.result;
      },
    };
  });
}

function launch(job) {
  return chromium.launch({
    executablePath: job.executable,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", ...(job.launchArgs || [])],
  });
}

// One job in a fresh browser context of `browser` (closed afterwards): {results, requests}.
async function runJob(browser, job) {
  const results = [];
  const requests = [];
  const context = await browser.newContext({
    ...(job.storageIn ? { storageState: job.storageIn } : {}),
    viewport: { width: job.viewport[0], height: job.viewport[1] },
    timezoneId: job.timezone || "UTC",
    locale: job.locale || "en-GB",
    extraHTTPHeaders: job.headers || {},
    permissions: job.permissions || [],
  });
  try {
    if (job.wallet) await injectWallet(context, job.wallet);
    const page = await context.newPage();
    // Requests that reached a server (a request the page's CSP blocks never does).
    page.on("requestfinished", (r) => requests.push(r.url()));
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    const response = await page.goto(job.url, { waitUntil: "networkidle", timeout: 60000 });
    results.push({ step: "goto", status: response ? response.status() : null, url: page.url() });
    for (const step of job.steps || []) {
      try {
        await runStep(step);
      } catch (err) {
        const text = await page.evaluate(() => document.body.innerText).catch(() => "");
        const store = await page.evaluate(() => JSON.stringify(window.localStorage)).catch(() => "");
        throw new Error(
          `step ${JSON.stringify(step)} failed: ${err.message}\npage: ${text.slice(0, 1500)}` +
            `\nconsole: ${JSON.stringify(errors)}\nlocalStorage: ${store.slice(0, 400)}`,
        );
      }
    }
    async function runStep(step) {
      if (step.flow !== undefined) {
        if (!FLOWS[step.flow]) throw new Error("unknown flow " + step.flow);
        for (const inner of FLOWS[step.flow](step)) await runStep(inner);
      } else if (step.goto !== undefined) {
        const r = await page.goto(step.goto, { waitUntil: "networkidle", timeout: 60000 });
        results.push({ step: "goto", status: r ? r.status() : null, url: page.url() });
      } else if (step.fill !== undefined) {
        await page.fill(step.fill, step.value);
        results.push({ step: "fill" });
      } else if (step.click !== undefined) {
        // A click may start many requests (the proof verifier asks its node a hundred
        // questions); on a loaded machine that takes longer than the default 30 s.
        await Promise.all([
          page.waitForLoadState("networkidle", { timeout: 120000 }),
          page.click(step.click),
        ]);
        await page.waitForLoadState("networkidle", { timeout: 120000 });
        results.push({ step: "click", url: page.url() });
      } else if (step.waitFor !== undefined) {
        await page.waitForSelector(step.waitFor, { timeout: 120000, state: step.state || "visible" });
        results.push({ step: "waitFor" });
      } else if (step.screenshot !== undefined) {
        await page.screenshot({ path: step.screenshot, fullPage: !!step.fullPage });
        results.push({ step: "screenshot", path: step.screenshot });
      } else if (step.text !== undefined) {
        const text = await page.locator(step.text).first().innerText();
        results.push({ step: "text", value: text });
      } else if (step.count !== undefined) {
        results.push({ step: "count", value: await page.locator(step.count).count() });
      } else if (step.attr !== undefined) {
        const values = await page
          .locator(step.attr)
          .evaluateAll((els, name) => els.map((e) => e.getAttribute(name)), step.name);
        results.push({ step: "attr", value: values });
      } else if (step.setFiles !== undefined) {
        await page.setInputFiles(step.setFiles, step.files);
        results.push({ step: "setFiles" });
      } else if (step.drop !== undefined) {
        const transfer = await page.evaluateHandle(
          ([name, content]) => {
            const dt = new DataTransfer();
            dt.items.add(new File([content], name, { type: "application/json" }));
            return dt;
          },
          [step.name, step.content],
        );
        await page.dispatchEvent(step.drop, "dragover", { dataTransfer: transfer });
        await page.dispatchEvent(step.drop, "drop", { dataTransfer: transfer });
        results.push({ step: "drop" });
      } else if (step.select !== undefined) {
        await page.selectOption(step.select, step.value);
        results.push({ step: "select" });
      } else if (step.waitForText !== undefined) {
        await page.waitForFunction(
          ([selector, text]) => {
            const el = document.querySelector(selector);
            return !!el && el.innerText.includes(text);
          },
          [step.waitForText, step.value],
          { timeout: 120000 },
        );
        results.push({ step: "waitForText" });
      } else if (step.offline !== undefined) {
        await context.setOffline(!!step.offline);
        results.push({ step: "offline", value: !!step.offline });
      } else if (step.reload !== undefined) {
        const r = await page.reload({ waitUntil: "networkidle", timeout: 60000 });
        results.push({ step: "reload", status: r ? r.status() : null });
      } else if (step.failRoute !== undefined) {
        await page.route(step.failRoute, (route) =>
          route.fulfill({ status: step.status, contentType: "text/plain", body: "upstream unavailable" }),
        );
        results.push({ step: "failRoute" });
      } else if (step.unroute !== undefined) {
        await page.unroute(step.unroute);
        results.push({ step: "unroute" });
      } else if (step.walletChain !== undefined) {
        job.wallet.chainId = step.walletChain;
        results.push({ step: "walletChain" });
      } else if (step.walletReject !== undefined) {
        job.wallet.reject = !!step.walletReject;
        results.push({ step: "walletReject" });
      } else if (step.localStorage !== undefined) {
        const value = await page.evaluate((key) => window.localStorage.getItem(key), step.localStorage);
        results.push({ step: "localStorage", value });
      } else if (step.console !== undefined) {
        results.push({ step: "console", value: errors.slice() });
      } else if (step.url !== undefined) {
        results.push({ step: "url", value: page.url() });
      } else if (step.scrollWidth !== undefined) {
        const w = await page.evaluate(() => document.documentElement.scrollWidth);
        results.push({ step: "scrollWidth", value: w });
      } else {
        throw new Error("unknown step " + JSON.stringify(step));
      }
    }
    if (job.storageOut) await context.storageState({ path: job.storageOut });
  } finally {
    await context.close();
  }
  return { results, requests };
}

// One job per line of stdin, each answered by one line of stdout ({results, requests} or
// {error}): the browser stays open between jobs and each job gets a fresh context (its own cookies,
// storage, permissions, network state), as a new browser would. A job with launchArgs
// (Chromium flags such as a fake camera) gets a browser of its own, closed after it.
async function serve() {
  let shared = null;
  const lines = require("readline").createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer;
    try {
      const job = JSON.parse(line);
      const own = (job.launchArgs || []).length > 0;
      if (!own && (shared === null || !shared.isConnected())) shared = await launch(job);
      const browser = own ? await launch(job) : shared;
      try {
        answer = await runJob(browser, job);
      } finally {
        if (own) await browser.close();
      }
    } catch (err) {
      answer = { error: String(err && err.stack ? err.stack : err) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  if (shared !== null) await shared.close();
}

serve().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
