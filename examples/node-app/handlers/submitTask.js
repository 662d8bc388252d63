// submitTask, POST /tasks: stores a new pending task and queues it for processTask.

const { randomUUID } = require("node:crypto");
const { SQSClient, SendMessageCommand } = require("@aws-sdk/client-sqs");
const { jsonResponse } = require("./lib/http");
const { createTask } = require("./lib/store");

const sqs = new SQSClient({});

/** Why a parsed request body is not a valid {taskId?: string, answer?: string}, or undefined if it is. */
function invalidReason(body) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return 'the body must be a JSON object such as {"answer": "42"}';
  }
  if (body.taskId != null && typeof body.taskId !== "string") return "taskId must be a string";
  if (body.answer != null && typeof body.answer !== "string") return "answer must be a string";
  if (body.taskId?.trim() === "") return "taskId must not be empty";
}

exports.handler = async (event) => {
  let body;
  try {
    body = JSON.parse(event.body);
  } catch {
    body = undefined; // a missing, empty or malformed body
  }
  const reason = invalidReason(body);
  if (reason) return jsonResponse(event, 400, { message: reason });

  const taskId = body.taskId ?? randomUUID();
  if (!(await createTask(taskId, body.answer ?? null))) {
    return jsonResponse(event, 409, { message: "A task with this taskId already exists", taskId });
  }
  const message = { QueueUrl: process.env.TASKS_QUEUE_URL, MessageBody: JSON.stringify({ taskId }) };
  await sqs.send(new SendMessageCommand(message));
  console.info(`task ${taskId} received and queued`);
  return jsonResponse(event, 201, { message: "Task received", taskId });
};
