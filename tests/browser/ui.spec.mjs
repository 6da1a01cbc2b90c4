// Browser test of the chatocr web UI with Debian's chromium driven by playwright-core.
//
//   CHATOCR_URL=http://127.0.0.1:8000 CHATOCR_UI_IMAGE=receipt.png node tests/browser/ui.spec.mjs
//
// Environment: CHATOCR_URL (server), CHATOCR_UI_IMAGE (a receipt image showing TOTAL 42.80 and
// DATE 2024-03-15), CHATOCR_API_KEY (optional: typed into the page), CHROMIUM (default
// /usr/bin/chromium), CHATOCR_UI_ARTIFACTS (optional folder for the downloads and a screenshot).
// tests/test_server_ui_browser.py starts a server with a deterministic backend and runs this file.
// Exit code 0 when every check passes; the first failed check is printed and exits 1.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const url = process.env.CHATOCR_URL || "http://127.0.0.1:8000";
const image = process.env.CHATOCR_UI_IMAGE;
const apiKey = process.env.CHATOCR_API_KEY || "";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const artifacts = process.env.CHATOCR_UI_ARTIFACTS || mkdtempSync(join(tmpdir(), "chatocr-ui-out-"));
if (!image) {
  console.error("CHATOCR_UI_IMAGE is not set");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

const userDataDir = mkdtempSync(join(tmpdir(), "chatocr-ui-profile-"));
// A fresh profile and no background traffic: the browser talks to the test server only.
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  acceptDownloads: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const checks = [];
function check(name) {
  checks.push(name);
  console.log(`ok - ${name}`);
}

let failed = false;
const page = context.pages()[0] || (await context.newPage());
const consoleErrors = [];
page.on("console", (msg) => { if (msg.type() === "error") consoleErrors.push(msg.text()); });
page.on("pageerror", (err) => consoleErrors.push(String(err)));
try {
  await page.goto(url, { waitUntil: "domcontentloaded" });
  if (apiKey) {
    // The page sees from /healthz (or a 401) that the server needs a key and opens the key box itself.
    await page.waitForSelector("#key-box[open]", { timeout: 15000 });
    check("the page asks for the API key");
    await page.fill("#api-key", apiKey);
    await page.locator("#api-key").dispatchEvent("change");
  }
  await page.waitForFunction(() => document.querySelectorAll("#template option").length > 0, null, { timeout: 15000 });
  const templates = await page.locator("#template option").evaluateAll((opts) => opts.map((o) => o.value));
  assert.ok(templates.includes("receipt"), `templates offered: ${templates}`);
  check("templates are listed");

  // Upload the receipt and ask for two printed fields and one that is not on it.
  await page.setInputFiles("#file", image);
  await page.fill("#fields", "total,date,车次");
  await page.check("input[name=mode][value=fields]");
  await page.click("#run");
  await page.waitForSelector("body[data-ready=true]", { timeout: 90000 });
  check("upload processed as a job");

  const rows = page.locator("#field-table tr.field-row");
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.field)), ["total", "date", "车次"]);
  const total = page.locator('tr.field-row[data-field="total"] input.value');
  assert.equal(await total.inputValue(), "42.80");
  assert.equal(await page.locator('tr.field-row[data-field="date"] input.value').inputValue(), "2024-03-15");
  const missing = page.locator('tr.field-row[data-field="车次"] input.value');
  assert.equal(await missing.inputValue(), "");
  assert.equal(await missing.getAttribute("placeholder"), "未找到相关信息");
  check("extracted values shown; the null value shows 未找到相关信息");

  // The page image is loaded and the OCR boxes are drawn over it.
  const img = page.locator(".page img").first();
  await page.waitForFunction(() => {
    const el = document.querySelector(".page img");
    return el && el.complete && el.naturalWidth > 0;
  });
  assert.ok((await page.locator(".ocr-box").count()) >= 3, "OCR boxes drawn");
  check("page image and OCR boxes drawn");

  // Hovering a field highlights its box, and that box lies over the page image.
  const fieldBox = page.locator('.field-box[data-field="total"]');
  assert.equal(await fieldBox.count(), 1);
  await page.locator('tr.field-row[data-field="total"] td.name').hover();
  assert.match((await fieldBox.getAttribute("class")) || "", /\bactive\b/);
  const boxRect = await fieldBox.boundingBox();
  const imgRect = await img.boundingBox();
  assert.ok(boxRect && imgRect && boxRect.width > 5 && boxRect.height > 5, "field box has a size");
  assert.ok(
    boxRect.x >= imgRect.x - 1 && boxRect.y >= imgRect.y - 1 &&
      boxRect.x + boxRect.width <= imgRect.x + imgRect.width + 1 &&
      boxRect.y + boxRect.height <= imgRect.y + imgRect.height + 1,
    "field box lies inside the page image",
  );
  // The total is printed below the date on the receipt; the boxes must say so too.
  const dateRect = await page.locator('.field-box[data-field="date"]').boundingBox();
  assert.ok(dateRect && dateRect.y < boxRect.y, "date box above total box");
  check("hovering a field highlights its box on the page");

  // Clicking a box on the page highlights its row.
  await page.locator('.field-box[data-field="date"]').click();
  assert.match((await page.locator('tr.field-row[data-field="date"]').getAttribute("class")) || "", /\bactive\b/);
  check("clicking a box highlights its field");

  await page.screenshot({ path: join(artifacts, "ui.png"), fullPage: true });

  // Edit a value, then download JSON and CSV.
  await total.fill("43.00");
  const [jsonDownload] = await Promise.all([page.waitForEvent("download"), page.click("#download-json")]);
  const jsonPath = join(artifacts, jsonDownload.suggestedFilename());
  await jsonDownload.saveAs(jsonPath);
  const record = JSON.parse(readFileSync(jsonPath, "utf8"));
  assert.equal(record.fields.total.value, "43.00");
  assert.equal(record.fields.total.edited, true);
  assert.equal(record.fields.date.value, "2024-03-15");
  assert.equal(record.fields["车次"].value, null);
  assert.equal(record.fields.date.box.length, 4);
  check(`JSON download (${jsonDownload.suggestedFilename()}) holds the edited value and the null`);

  const [csvDownload] = await Promise.all([page.waitForEvent("download"), page.click("#download-csv")]);
  const csvPath = join(artifacts, csvDownload.suggestedFilename());
  await csvDownload.saveAs(csvPath);
  const csv = readFileSync(csvPath, "utf8").replace(/^\ufeff/, "").trim().split(/\r?\n/);
  assert.deepEqual(csv[0].split(","), ["file", "total", "date", "车次"]);
  assert.deepEqual(csv[1].split(",").slice(1), ["43.00", "2024-03-15", ""]);
  check(`CSV download (${csvDownload.suggestedFilename()}) holds the edited value`);

  // Deleting removes the job from the server.
  await page.click("#forget");
  await page.waitForFunction(() => !document.body.dataset.ready);
  assert.equal(await page.locator(".page").count(), 0);
  check("delete clears the page");

  assert.deepEqual(consoleErrors, [], "no errors in the browser console");
  check("no console errors");
} catch (err) {
  failed = true;
  console.error(`not ok - after ${checks.length} passed check(s): ${err.stack || err}`);
  try {
    await page.screenshot({ path: join(artifacts, "failure.png"), fullPage: true });
    console.error(`screenshot: ${join(artifacts, "failure.png")}`);
  } catch (_) { /* the page may be gone */ }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`${checks.length} check(s) passed${failed ? ", then a failure" : ""}`);
process.exit(failed ? 1 : 0);
