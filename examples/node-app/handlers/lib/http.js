// JSON responses for the REST API, with CORS headers for a browser at one of CORS_ORIGINS (comma-separated, or *).

const allowedOrigins = (process.env.CORS_ORIGINS ?? "*").split(",").map((origin) => origin.trim());
const allowedHeaders = process.env.CORS_HEADERS ?? "Content-Type";

function jsonResponse(event, statusCode, body) {
  const headers = { "content-type": "application/json", vary: "Origin" };
  const origin = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === "origin")?.[1];
  const allowed = allowedOrigins.includes("*") ? "*" : allowedOrigins.includes(origin) ? origin : undefined;
  if (allowed) {
    headers["access-control-allow-origin"] = allowed;
    headers["access-control-allow-headers"] = allowedHeaders;
  }
  return { statusCode, headers, body: JSON.stringify(body) };
}

module.exports = { jsonResponse };
