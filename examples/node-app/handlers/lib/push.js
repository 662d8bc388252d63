// Pushes a task's status to every connected browser through the API Gateway management API at WEBSOCKET_ENDPOINT.

const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require("@aws-sdk/client-apigatewaymanagementapi");
const { listConnectionIds, removeConnection } = require("./store");

const api = new ApiGatewayManagementApiClient({ endpoint: process.env.WEBSOCKET_ENDPOINT });

/** Sends {taskId, status, retries, errorMessage?} to every connection. Failures are logged, never thrown. */
async function pushTask({ taskId, status, retries, errorMessage }) {
  const update = errorMessage === null ? { taskId, status, retries } : { taskId, status, retries, errorMessage };
  let ids;
  try {
    ids = await listConnectionIds();
  } catch (err) {
    console.error(`task ${taskId}: cannot list the WebSocket connections: ${err}`);
    return;
  }
  const data = JSON.stringify(update);
  const results = await Promise.all(ids.map((id) => send(id, data)));
  console.info(`task ${taskId} (${status}): pushed to ${results.filter(Boolean).length} of ${ids.length} connections`);
}

/** Posts to one connection; true if sent. A connection that is gone (410) is removed. */
async function send(connectionId, data) {
  try {
    await api.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
    return true;
  } catch (err) {
    if (err.name !== "GoneException") {
      console.warn(`cannot post to connection ${connectionId}: ${err}`);
      return false;
    }
    console.info(`connection ${connectionId} is gone; removing it`);
    await removeConnection(connectionId).catch((error) => console.warn(`cannot remove ${connectionId}: ${error}`));
    return false;
  }
}

module.exports = { pushTask };
