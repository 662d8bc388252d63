// Mints a token the example's JWT authorizer accepts: RS256, signed with example-key.pem (a key made for this
// example and published with it: never trust it anywhere else), whose public half is jwks.json.
//   node examples/authorized/mint-token.mjs [subject] [scope…]
import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";

const [subject = "ada", ...scopes] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
const claims = { iss: "https://auth.example.test/", aud: "example-app", sub: subject, iat: now, exp: now + 3600 };
if (scopes.length) claims.scope = scopes.join(" ");
const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const unsigned = `${encode({ alg: "RS256", typ: "JWT", kid: "example" })}.${encode(claims)}`;
const key = readFileSync(new URL("./example-key.pem", import.meta.url));
const signature = createSign("RSA-SHA256").update(unsigned).sign(key).toString("base64url");
console.log(`${unsigned}.${signature}`);
