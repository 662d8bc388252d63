// wsDefault, the WebSocket $default route: answers {"action":"ping"} (or a bare "ping") with {"type":"pong"} and
// anything else with {"type":"ack","received":…}. The answer goes back to the client as the route response.

function answer(body) {
  const text = (body ?? "").trim();
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    message = text; // not JSON: echo it as text
  }
  const isPing = text.toLowerCase() === "ping" || message?.action === "ping";
  return isPing ? { type: "pong" } : { type: "ack", received: message };
}

exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify(answer(event.body)) });
