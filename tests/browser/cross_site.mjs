// Plays the web pages of issue #27 in Debian's Chromium (headless): pages on other origins try to drive the local
// AWS APIs with requests a browser sends without asking anyone (fetch with mode 'no-cors': POSTs with
// text/plain or form bodies, and a GET), the way a site the developer visits could. Then a page on the origin
// the emulator was told to allow sends its own, harmless requests, which must arrive: proof that the same
// requests do reach the emulator, so whatever the attacking pages left behind would have shown.
//
//   node tests/browser/cross_site.mjs '<plan JSON>'
//
// The plan: { lambdaPort, websocketPort, function, queueUrl, connectionId, allowedPort }. Every page is served
// here, on loopback: "cross-site" at http://127.0.0.1:<free port>, "rebinding" at http://attacker.example:<that
// port> (Chromium resolves attacker.example to 127.0.0.1, as a DNS-rebinding attacker's name would), and
// "allowed" at http://127.0.0.1:<allowedPort>. Prints one JSON line with what each page's fetches resolved to;
// exits non-zero (with the pages' console) if a page could not run.
import { chromium } from "playwright-core";
import http from "node:http";

const plan = JSON.parse(process.argv[2]);
const console_lines = [];

/// Serves an empty page on 127.0.0.1:`port` (0: a free one); resolves to the port it got.
function servePage(port) {
  const server = http.createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end("<!doctype html><title>another site</title><p>nothing to see here</p>");
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({ server, port: server.address().port })));
}

/// The requests a page on `host` makes at the emulator, with `tag` in each body. Destructive ones only when
/// `destructive`: the allowed page must leave the queue as the attacking pages found it, but for its message.
function attempts(host, tag, destructive) {
  const lambda = `http://${host}:${plan.lambdaPort}`;
  const queue = encodeURIComponent(plan.queueUrl);
  const form = "application/x-www-form-urlencoded";
  const post = (url, body, type) => ({ url, init: { method: "POST", mode: "no-cors", body, headers: { "Content-Type": type } } });
  const list = [
    post(`${lambda}/2015-03-31/functions/${plan.function}/invocations`, JSON.stringify({ from: tag }), "text/plain"),
    post(`${lambda}/`, `Action=SendMessage&QueueUrl=${queue}&MessageBody=${tag}`, form),
    post(`http://${host}:${plan.websocketPort}/@connections/${encodeURIComponent(plan.connectionId)}`, tag, "text/plain"),
    post(`http://${host}:${plan.websocketPort}/dev/@connections/${encodeURIComponent(plan.connectionId)}`, tag, "text/plain"),
  ];
  if (destructive) {
    list.push(post(`${lambda}/`, `Action=PurgeQueue&QueueUrl=${queue}`, form));
    list.push(post(`${lambda}/`, `Action=DeleteQueue&QueueUrl=${queue}`, form));
    // A GET carries no Origin; only Sec-Fetch-Site tells it came from a page.
    list.push({ url: `${lambda}/?Action=DeleteQueue&QueueUrl=${queue}`, init: { mode: "no-cors" } });
  }
  return list;
}

/// Opens `origin` in a new page and runs `requests` there, one after the other; what each fetch resolved to.
async function runPage(browser, origin, requests) {
  const page = await browser.newPage();
  page.on("console", (message) => console_lines.push(`${origin}: ${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => console_lines.push(`${origin}: pageerror: ${error.message}`));
  await page.goto(`${origin}/`);
  const outcomes = await page.evaluate(async (requests) => {
    const seen = [];
    for (const { url, init } of requests) {
      try {
        const response = await fetch(url, init);
        seen.push(`${url}: ${response.type}`);
      } catch (error) {
        seen.push(`${url}: ${error.message}`);
      }
    }
    return seen;
  }, requests);
  await page.close();
  return outcomes;
}

const attacker = await servePage(0);
const allowed = await servePage(plan.allowedPort);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP attacker.example 127.0.0.1"],
});
try {
  const seen = {
    "cross-site": await runPage(browser, `http://127.0.0.1:${attacker.port}`, attempts("127.0.0.1", "cross-site", true)),
    rebinding: await runPage(browser, `http://attacker.example:${attacker.port}`, attempts("attacker.example", "rebinding", true)),
    allowed: await runPage(browser, `http://127.0.0.1:${allowed.port}`, attempts("127.0.0.1", "allowed", false)),
  };
  console.log(JSON.stringify(seen));
} catch (error) {
  console.error(`${error.message}\npages' console:\n${console_lines.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  attacker.server.close();
  allowed.server.close();
}
