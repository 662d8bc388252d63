// processTask, the tasks queue's consumer: simulated work that takes up to WORK_MAX_MS and fails with probability
// FAILURE_RATE. A failed message is reported back to SQS, which redelivers it and, after 3 receives, dead-letters it.

const { setTimeout: sleep } = require("node:timers/promises");
const { pushTask } = require("./lib/push");
const { getTask, updatePendingTask } = require("./lib/store");

const failureRate = Number(process.env.FAILURE_RATE ?? 0.3);
const workMaxMs = Number(process.env.WORK_MAX_MS ?? 0);
if (!(failureRate >= 0 && failureRate <= 1)) throw new Error("FAILURE_RATE must be a number from 0 to 1");

function taskIdOf(body) {
  try {
    return JSON.parse(body).taskId;
  } catch {
    return undefined;
  }
}

/** Processes one message; throws to have SQS deliver it again. */
async function processMessage(message) {
  const taskId = taskIdOf(message.body);
  if (typeof taskId !== "string" || taskId === "") {
    console.warn(`not a task message; dropping it: ${message.body}`);
    return;
  }
  const task = await getTask(taskId);
  if (task === null) {
    console.warn(`task ${taskId}: no such task; dropping the message`);
    return;
  }
  if (task.status !== "pending") {
    console.info(`task ${taskId}: already ${task.status}; nothing to do`);
    return;
  }

  const attempt = Number(message.attributes?.ApproximateReceiveCount ?? 1);
  if (workMaxMs > 0) await sleep(Math.floor(Math.random() * (workMaxMs + 1)));
  if (Math.random() < failureRate) {
    const error = `Simulated failure on attempt ${attempt}`;
    const updated = await updatePendingTask(taskId, "pending", attempt, error);
    if (updated) await pushTask(updated);
    throw new Error(`task ${taskId}: ${error}`);
  }
  const updated = await updatePendingTask(taskId, "success", attempt - 1, null);
  if (updated) {
    console.info(`task ${taskId} succeeded on attempt ${attempt}`);
    await pushTask(updated);
  }
}

// ReportBatchItemFailures: SQS delivers again only the messages listed in batchItemFailures.
exports.handler = async (event) => {
  const batchItemFailures = [];
  for (const message of event.Records) {
    try {
      await processMessage(message);
    } catch (err) {
      console.warn(`message ${message.messageId} failed and will be retried: ${err.message}`);
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
};
