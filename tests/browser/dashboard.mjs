// Drives Debian's Chromium (headless) through the example dashboard: waits for the WebSocket to connect,
// submits a task with the form, and waits until its row turns `success`. Prints one JSON line with what it saw;
// exits non-zero (with the page's console) if anything does not happen in time.
//
// The answer to the form's POST reaches the page only after the page has received a status push for that task:
// on a fast machine (and on AWS) the worker's first push can overtake the response, and the page must keep the
// answer it submitted either way. Holding the response makes that order happen on every run.
//
//   node tests/browser/dashboard.mjs <dashboard URL> <answer> [screenshot.png]
import { chromium } from "playwright-core";

const [url, answer, screenshot] = process.argv.slice(2);
const console_lines = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage();
  page.on("console", (message) => console_lines.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => console_lines.push(`pageerror: ${error.message}`));
  const pushed = new Set();
  const pushWaiters = [];
  page.on("websocket", (socket) => socket.on("framereceived", ({ payload }) => {
    const taskId = (() => { try { return JSON.parse(payload).taskId; } catch { return undefined; } })();
    if (!taskId) return;
    pushed.add(taskId);
    pushWaiters.filter((waiter) => waiter.taskId === taskId).forEach((waiter) => waiter.resolve());
  }));
  const firstPushOf = (taskId) => pushed.has(taskId) ? Promise.resolve()
    : new Promise((resolve) => pushWaiters.push({ taskId, resolve }));
  await page.route((target) => target.pathname.endsWith("/tasks"), async (route) => {
    const response = await route.fetch();
    if (route.request().method() === "POST" && response.ok()) {
      const { taskId } = await response.json();
      let timer;
      const timeout = new Promise((resolve) => { timer = setTimeout(resolve, 20000); });
      await Promise.race([firstPushOf(taskId), timeout]);
      clearTimeout(timer);
      if (!pushed.has(taskId)) console_lines.push(`harness: no push for ${taskId} within 20 s`);
    }
    await route.fulfill({ response });
  });
  await page.goto(url);
  await page.locator("#connection.open").waitFor({ timeout: 20000 });
  await page.fill("#answer", answer);
  await page.click("button[type=submit]");
  // Longer than the 20 s the response may be held for (above).
  await page.locator("#message").filter({ hasText: "Task received" }).waitFor({ timeout: 40000 });
  const taskId = (await page.textContent("#message")).split(": ").pop().trim();
  const status = page.locator(`tr[data-task-id="${taskId}"] td.status`);
  await status.filter({ hasText: "success" }).waitFor({ timeout: 30000 });
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  const row = await page.locator(`tr[data-task-id="${taskId}"] td`).allTextContents();
  console.log(JSON.stringify({ taskId, row }));
} catch (error) {
  console.error(`${error.message}\npage console:\n${console_lines.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
