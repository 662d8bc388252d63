// A REST API TOKEN authorizer: `Authorization: Bearer allow-<name>` is let in as <name>, `Bearer deny` is denied,
// anything else is Unauthorized. Real authorizers check a signature here; the shape of the answer is the point.
export const handler = async (event) => {
  const token = (event.authorizationToken ?? "").replace(/^Bearer /, "");
  if (token === "deny") return policy("anonymous", "Deny", event.methodArn);
  if (!token.startsWith("allow-")) throw new Error("Unauthorized"); // API Gateway answers 401
  const user = token.slice("allow-".length);
  // Allow every method of this API and stage, so the cached answer serves the user's other routes too.
  const [arn, stage] = event.methodArn.split("/");
  return { ...policy(user, "Allow", `${arn}/${stage}/*`), context: { user, plan: "free" } };
};

const policy = (principalId, Effect, Resource) => ({
  principalId,
  policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect, Resource }] },
});
