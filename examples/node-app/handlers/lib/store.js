// Tasks (TASKS_TABLE) and WebSocket connections (CONNECTIONS_TABLE) in DynamoDB.

const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const {
  DynamoDBDocumentClient,
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateScan,
} = require("@aws-sdk/lib-dynamodb");

const db = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const { TASKS_TABLE, CONNECTIONS_TABLE } = process.env;

// A stored task with its fields in a fixed order, as GET /tasks returns it.
function toTask({ taskId, status, retries, answer = null, errorMessage = null, createdAt }) {
  return { taskId, status, retries, answer, errorMessage, createdAt };
}

const compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Stores a new pending task; returns false if a task with this id already exists. */
async function createTask(taskId, answer) {
  const createdAt = new Date().toISOString();
  const Item = { taskId, status: "pending", retries: 0, answer, errorMessage: null, createdAt };
  try {
    await db.send(
      new PutCommand({ TableName: TASKS_TABLE, Item, ConditionExpression: "attribute_not_exists(taskId)" }),
    );
    return true;
  } catch (err) {
    if (err.name === "ConditionalCheckFailedException") return false;
    throw err;
  }
}

async function getTask(taskId) {
  const { Item } = await db.send(new GetCommand({ TableName: TASKS_TABLE, Key: { taskId } }));
  return Item ? toTask(Item) : null;
}

/** Every task, newest first. */
async function listTasks() {
  const tasks = [];
  for await (const page of paginateScan({ client: db }, { TableName: TASKS_TABLE })) {
    tasks.push(...page.Items.map(toTask));
  }
  return tasks.sort((a, b) => compare(b.createdAt, a.createdAt) || compare(a.taskId, b.taskId));
}

/**
 * Sets the status, retries and errorMessage of a task that is still pending (so a redelivered message never undoes
 * a final state). Returns the updated task, or null if the task is missing or no longer pending.
 */
async function updatePendingTask(taskId, status, retries, errorMessage) {
  try {
    const { Attributes } = await db.send(
      new UpdateCommand({
        TableName: TASKS_TABLE,
        Key: { taskId },
        UpdateExpression: "SET #status = :status, retries = :retries, errorMessage = :error",
        ConditionExpression: "attribute_exists(taskId) AND #status = :pending",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: {
          ":status": status,
          ":retries": retries,
          ":error": errorMessage,
          ":pending": "pending",
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    return toTask(Attributes);
  } catch (err) {
    if (err.name === "ConditionalCheckFailedException") return null;
    throw err;
  }
}

async function addConnection(connectionId) {
  const Item = { connectionId, connectedAt: new Date().toISOString() };
  await db.send(new PutCommand({ TableName: CONNECTIONS_TABLE, Item }));
}

async function removeConnection(connectionId) {
  await db.send(new DeleteCommand({ TableName: CONNECTIONS_TABLE, Key: { connectionId } }));
}

async function listConnectionIds() {
  const ids = [];
  const input = { TableName: CONNECTIONS_TABLE, ProjectionExpression: "connectionId" };
  for await (const page of paginateScan({ client: db }, input)) {
    ids.push(...page.Items.map((item) => item.connectionId));
  }
  return ids;
}

module.exports = {
  createTask,
  getTask,
  listTasks,
  updatePendingTask,
  addConnection,
  removeConnection,
  listConnectionIds,
};
