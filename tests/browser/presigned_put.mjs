// A web page uploads a file with a presigned PUT URL, as a frontend does with a URL its backend signed: Chromium
// sends the CORS preflight the bucket's rules must allow, then the PUT. A page on an origin the rules do not list
// (http://attacker.example, mapped to loopback) tries the same and must be stopped by CORS.
//
//   node tests/browser/presigned_put.mjs '<plan JSON>'
//
// The plan: { url, body }. Prints one JSON line: { allowed: "<status> <ETag header>", refused: "<outcome>" }.
import { chromium } from "playwright-core";
import http from "node:http";

const plan = JSON.parse(process.argv[2]);
const console_lines = [];

function servePage() {
  const server = http.createServer((_, response) => {
    response.writeHead(200, { "content-type": "text/html" });
    response.end("<!doctype html><title>uploader</title>");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, port: server.address().port })));
}

async function upload(browser, origin) {
  const page = await browser.newPage();
  page.on("console", (message) => console_lines.push(`${origin}: ${message.type()}: ${message.text()}`));
  await page.goto(`${origin}/`);
  const outcome = await page.evaluate(async ({ url, body }) => {
    try {
      const response = await fetch(url, { method: "PUT", body, headers: { "Content-Type": "text/plain" } });
      return `${response.status} ${response.headers.get("etag")}`;
    } catch (error) {
      return `refused: ${error.message}`;
    }
  }, plan);
  await page.close();
  return outcome;
}

const site = await servePage();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP attacker.example 127.0.0.1"],
});
try {
  const allowed = await upload(browser, `http://127.0.0.1:${site.port}`);
  const refused = await upload(browser, `http://attacker.example:${site.port}`);
  console.log(JSON.stringify({ allowed, refused }));
} catch (error) {
  console.error(`${error.message}\npages' console:\n${console_lines.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  site.server.close();
}
