// Answers with what the gateway's authorizer said about the caller.
export const handler = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ authorizer: event.requestContext.authorizer ?? null }),
});
