// wsConnect, the WebSocket $connect route: remembers the connection so status updates reach it.

const { addConnection } = require("./lib/store");

exports.handler = async (event) => {
  const { connectionId } = event.requestContext;
  await addConnection(connectionId);
  console.info(`connection ${connectionId}: connected`);
  return { statusCode: 200 };
};
