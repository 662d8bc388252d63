"""What bench/hello does, in Python: read the JSON body, answer {"message": "hello", "n": ...} as a proxy response."""
import json


def hello(event, context):
    try:
        request = json.loads(event["body"]) if isinstance(event.get("body"), str) else event
    except ValueError:
        request = None
    answer = {"message": "hello", "n": (request or {}).get("n")}
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(answer)}
