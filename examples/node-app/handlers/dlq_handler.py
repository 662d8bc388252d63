"""dlqHandler, the dead-letter queue's consumer: marks each task whose message arrived there as `error` (keeping
its last failure's message) and pushes the change to every connected browser."""

import json
import logging
import os

import boto3

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

dynamodb = boto3.resource("dynamodb")
tasks = dynamodb.Table(os.environ["TASKS_TABLE"])
connections = dynamodb.Table(os.environ["CONNECTIONS_TABLE"])
management = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_ENDPOINT"])


def mark_error(task_id, fallback_message):
    """Sets a pending task's status to error; returns the updated task, or None if it is missing or already final."""
    task = tasks.get_item(Key={"taskId": task_id}).get("Item")
    if task is None or task["status"] != "pending":
        return None
    message = task.get("errorMessage") or fallback_message  # the last failure's, if processTask recorded one
    try:
        return tasks.update_item(
            Key={"taskId": task_id},
            UpdateExpression="SET #status = :error, errorMessage = :message",
            ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":error": "error", ":pending": "pending", ":message": message},
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except tasks.meta.client.exceptions.ConditionalCheckFailedException:
        return None  # no longer pending


def connection_ids():
    scan = {"ProjectionExpression": "connectionId"}
    while True:
        page = connections.scan(**scan)
        yield from (item["connectionId"] for item in page["Items"])
        if "LastEvaluatedKey" not in page:
            return
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]  # the next page


def push(task):
    """Sends {taskId, status, retries, errorMessage} to every connection, removing those that are gone."""
    update = {name: task[name] for name in ("taskId", "status", "retries", "errorMessage")}
    data = json.dumps(update, default=int, separators=(",", ":"), ensure_ascii=False)  # int: retries is a Decimal
    for connection_id in connection_ids():
        try:
            management.post_to_connection(ConnectionId=connection_id, Data=data.encode())
        except management.exceptions.GoneException:
            logger.info("connection %s is gone; removing it", connection_id)
            connections.delete_item(Key={"connectionId": connection_id})
        except Exception as err:
            logger.warning("cannot post to connection %s: %s", connection_id, err)


def process(message):
    try:
        task_id = json.loads(message["body"])["taskId"]
    except (ValueError, TypeError, KeyError):
        task_id = None
    if not isinstance(task_id, str) or not task_id:
        logger.warning("not a task message; dropping it: %s", message["body"])
        return
    receive_count = message["attributes"]["ApproximateReceiveCount"]
    task = mark_error(task_id, f"Task failed and was moved to the dead-letter queue (receive {receive_count})")
    if task is None:
        logger.info("task %s: missing or already final; nothing to do", task_id)
        return
    logger.warning("task %s failed for good after %s retries", task_id, task["retries"])
    try:
        push(task)
    except Exception:
        logger.exception("task %s: cannot push the update", task_id)


def handler(event, context):
    """ReportBatchItemFailures: SQS delivers again only the messages listed in batchItemFailures."""
    failures = []
    for message in event["Records"]:
        try:
            process(message)
        except Exception:
            logger.exception("message %s: cannot record the failed task", message["messageId"])
            failures.append({"itemIdentifier": message["messageId"]})
    return {"batchItemFailures": failures}
