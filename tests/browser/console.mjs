// Drives Debian's Chromium (headless) through the web console of an app running with failureRate=1 (issue #26):
//   1. submits a task in the example dashboard, then follows its id in the console's Story view until the chain
//      is there: HTTP → submitTask → SendMessage → processTask attempts → DLQ → dlqHandler → WebSocket pushes;
//   2. invokes getStats from the Functions view;
//   3. disables dlqHandler's mapping, lets two tasks fail into the dead-letter queue, peeks it, and redrives it
//      to its source with StartMessageMoveTask;
//   4. browses the tasks table;
//   5. stays live while 1,000 invocations run (counted by the page's live badge).
// Prints one JSON line with what it saw; exits non-zero (with the pages' console) if anything does not happen.
//
//   node tests/browser/console.mjs '<plan JSON>'
//
// The plan: { console, dashboard, tasksUrl, lambda, dlq, table, invocations, screenshots (a folder or null) }.
import { chromium } from "playwright-core";

const plan = JSON.parse(process.argv[2]);
const consoleLines = [];
const seen = {};
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

async function shot(page, name) {
  if (!plan.screenshots) return;
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${plan.screenshots}/${name}.png` });
}

async function submitTask(answer) {
  const response = await fetch(plan.tasksUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ answer }) });
  return (await response.json()).taskId;
}

try {
  // 1. A task from the dashboard, followed in the console.
  const dashboard = await browser.newPage();
  dashboard.on("console", (m) => consoleLines.push(`dashboard: ${m.type()}: ${m.text()}`));
  await dashboard.goto(plan.dashboard);
  await dashboard.locator("#connection.open").waitFor({ timeout: 20000 });
  await dashboard.fill("#answer", "followed in the console");
  await dashboard.click("button[type=submit]");
  await dashboard.locator("#message").filter({ hasText: "Task received" }).waitFor({ timeout: 20000 });
  const taskId = (await dashboard.textContent("#message")).split(": ").pop().trim();
  seen.taskId = taskId;

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("console", (m) => consoleLines.push(`console: ${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => consoleLines.push(`console: pageerror: ${e.message}`));
  await page.goto(plan.console);
  await page.locator("body.ready").waitFor({ timeout: 20000 });
  await page.locator("#live.on").waitFor({ timeout: 20000 });
  await page.click('nav button[data-view="story"]');
  await page.fill("#story-id", taskId);
  await page.click("#story-go");
  // The story reloads as entries arrive; wait for the end of the chain: dlqHandler's invocation and a push.
  await page.locator('#story li[data-kind="invocation"]', { hasText: "dlqHandler" }).first().waitFor({ timeout: 60000 });
  await page.locator('#story li[data-kind="pushed"]').first().waitFor({ timeout: 30000 });
  await page.waitForTimeout(1000);
  seen.story = await page.$$eval("#story li", (items) => items.map((li) => `${li.dataset.kind}: ${li.querySelector(".kind").nextSibling?.textContent ?? ""}`));
  await shot(page, "story");

  // 2. Invoke a function from the console.
  await page.click('nav button[data-view="functions"]');
  await page.click('#functions tr[data-function="getStats"]');
  // getStats deserializes an API Gateway event: the sample for its route is one.
  await page.click("#sample-event");
  await page.waitForFunction(() => document.querySelector("#payload").value.includes("httpMethod"), null, { timeout: 10000 });
  await page.click("#invoke");
  await page.locator("#invoke-result.status-success, #invoke-result.status-error").waitFor({ timeout: 20000 });
  seen.invoked = await page.textContent("#invoke-result");
  if (!seen.invoked.startsWith("success")) throw new Error(`the invocation failed: ${seen.invoked}`);
  // processTask's attempts: successful invocations that report their item failed.
  await page.locator("#invocations tr.invocation.partial").first().click();
  await page.locator("#detail pre.log").waitFor({ timeout: 10000 });
  seen.errorDetail = await page.textContent("#detail pre.log");
  await shot(page, "functions");

  // 2b. Connections: a client of our own (in the dashboard's page) gets a message posted from the console, then is
  // disconnected from it.
  await dashboard.evaluate((url) => new Promise((resolve) => {
    window.consoleTest = { got: [], closed: false };
    const socket = new WebSocket(url);
    socket.onmessage = (event) => window.consoleTest.got.push(event.data);
    socket.onclose = () => { window.consoleTest.closed = true; };
    socket.onopen = resolve;
  }), plan.websocket);
  await page.click('nav button[data-view="api"]');
  await page.locator("#connections tr[data-connection]").nth(1).waitFor({ timeout: 20000 });
  seen.routes = await page.locator("#routes tbody tr").count();
  const newest = page.locator("#connections tr[data-connection]").last();
  await newest.locator("input").fill("hello from the console");
  await newest.locator("button", { hasText: "Post" }).click();
  await dashboard.waitForFunction(() => window.consoleTest.got.includes("hello from the console"), null, { timeout: 10000 });
  await shot(page, "api");
  await newest.locator("button", { hasText: "Disconnect" }).click();
  await dashboard.waitForFunction(() => window.consoleTest.closed, null, { timeout: 10000 });
  seen.disconnected = true;

  // 3. Failures pile up in the DLQ (its consumer switched off), are peeked, then redriven to their source.
  await page.click('nav button[data-view="queues"]');
  const dlqRow = page.locator(`#queues tr[data-queue="${plan.dlq}"]`);
  await dlqRow.locator('span.mapping[data-mapping="dlqHandler"] button.switch').click();
  await dlqRow.locator('span.mapping[data-mapping="dlqHandler"][data-enabled="false"]').waitFor({ timeout: 10000 });
  const failing = [await submitTask("into the DLQ 1"), await submitTask("into the DLQ 2")];
  seen.failing = failing;
  await dlqRow.locator("td.visible-count", { hasText: /^2$/ }).waitFor({ timeout: 60000 });
  await dlqRow.click();
  await page.locator("#messages tr.message").nth(1).waitFor({ timeout: 10000 });
  await page.waitForTimeout(2500); // a few points of the chart
  seen.peeked = await page.$$eval("#messages tr.message", (rows) => rows.map((r) => ({ id: r.dataset.message, state: r.dataset.state, body: r.cells[4].textContent })));
  await shot(page, "queues");
  // Peeking again changes nothing: same messages, still visible. The rows read are the new ones: the old ones
  // are marked first, and a render replaces them.
  await page.$$eval("#messages tr.message", (rows) => rows.forEach((r) => { r.dataset.old = "yes"; }));
  await page.click('nav button[data-view="queues"]');
  await page.locator("#messages tr.message:not([data-old])").nth(1).waitFor({ timeout: 10000 });
  seen.peekedAgain = await page.$$eval("#messages tr.message", (rows) => rows.map((r) => r.dataset.state));
  await page.click("#redrive");
  await page.locator("#moves", { hasText: "COMPLETED" }).waitFor({ timeout: 30000 });
  seen.moves = await page.textContent("#moves");

  // 4. The tasks table.
  await page.click('nav button[data-view="tables"]');
  await page.locator(`#tables tr[data-table="${plan.table}"]`).click();
  await page.locator("#items .item", { hasText: taskId }).first().waitFor({ timeout: 20000 });
  seen.tableItems = await page.locator("#items .item").count();
  await shot(page, "tables");

  // 5. Live while many invocations run.
  await page.click('nav button[data-view="functions"]');
  const counted = '#functions tr[data-function="getStats"] td.invocations';
  const before = Number((await page.getAttribute(counted, "data-count")) ?? 0);
  const started = Date.now();
  let next = 0;
  const invokeOne = async () => {
    while (next < plan.invocations) {
      next += 1;
      const response = await fetch(`${plan.lambda}/2015-03-31/functions/getStats/invocations`, { method: "POST", body: "{}" });
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 8 }, invokeOne));
  seen.invokeSeconds = (Date.now() - started) / 1000;
  // Every one of them reaches the page: getStats's count of invocations seen live.
  await page.waitForFunction(([selector, before, n]) => Number(document.querySelector(selector).dataset.count ?? 0) >= before + n, [counted, before, plan.invocations], { timeout: 60000 });
  seen.liveInvocations = Number(await page.getAttribute(counted, "data-count")) - before;
  seen.liveAfter = await page.getAttribute("#live", "class");
  seen.rows = await page.locator("#invocations tr.invocation").count();
  await shot(page, "live");
  console.log(JSON.stringify(seen));
} catch (error) {
  console.error(`${error.message}\nseen so far: ${JSON.stringify(seen)}\npage console:\n${consoleLines.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
