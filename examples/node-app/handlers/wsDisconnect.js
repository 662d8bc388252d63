// wsDisconnect, the WebSocket $disconnect route: forgets the connection.

const { removeConnection } = require("./lib/store");

exports.handler = async (event) => {
  const { connectionId } = event.requestContext;
  await removeConnection(connectionId);
  console.info(`connection ${connectionId}: disconnected`);
  return { statusCode: 200 };
};
