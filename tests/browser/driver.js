// Drive the system's headless Chromium with playwright-core: one page, a list of steps.
// Input: a JSON job on stdin; output: a JSON result on stdout ({results, requests}).
//   {executable, url, viewport: [w, h], timezone, headers, steps: [...]}
// Steps: {goto}, {fill, value}, {click}, {waitFor}, {screenshot, fullPage},
//        {text} (innerText), {count} (matching elements), {attr, name} (of each match),
//        {title} (attribute "title" of the first match), {setFiles, files} (paths for a
//        file input), {drop, name, content} (drops a file of that name and text on the
//        element, as a person dragging it from their desktop), {console} (the
//        page's console errors so far).
const { chromium } = require("playwright-core");

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const job = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const browser = await chromium.launch({
    executablePath: job.executable,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  const results = [];
  const requests = [];
  try {
    const context = await browser.newContext({
      viewport: { width: job.viewport[0], height: job.viewport[1] },
      timezoneId: job.timezone || "UTC",
      locale: job.locale || "en-GB",
      extraHTTPHeaders: job.headers || {},
    });
    const page = await context.newPage();
    // Requests that reached a server (a request the page's CSP blocks never does).
    page.on("requestfinished", (r) => requests.push(r.url()));
    const errors = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    const response = await page.goto(job.url, { waitUntil: "networkidle", timeout: 60000 });
    results.push({ step: "goto", status: response ? response.status() : null, url: page.url() });
    for (const step of job.steps || []) {
      if (step.goto !== undefined) {
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
        await page.waitForSelector(step.waitFor, { timeout: 120000 });
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
      } else if (step.console !== undefined) {
        results.push({ step: "console", value: errors.slice() });
      } else if (step.scrollWidth !== undefined) {
        const w = await page.evaluate(() => document.documentElement.scrollWidth);
        results.push({ step: "scrollWidth", value: w });
      } else {
        throw new Error("unknown step " + JSON.stringify(step));
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify({ results, requests }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
