//! wsDefault, the `$default` route: `{"action":"ping"}` (or a bare `ping`) is answered with `{"type":"pong"}`,
//! anything else with `{"type":"ack","received":…}`. The answer goes back as the route response
//! (`routeResponseSelectionExpression: $default` in serverless.yml).

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use fta_common::websocket::response;
use fta_common::Error;
use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::{json, Value};

fn answer(body: Option<&str>) -> Value {
    let text = body.unwrap_or("").trim();
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    let is_ping = text.eq_ignore_ascii_case("ping")
        || parsed.as_ref().and_then(|v| v.get("action")).and_then(Value::as_str) == Some("ping");
    if is_ping {
        json!({ "type": "pong" })
    } else {
        json!({ "type": "ack", "received": parsed.unwrap_or_else(|| Value::String(text.to_string())) })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    fta_common::init_logging();
    lambda_runtime::run(service_fn(|event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
        let reply = answer(event.payload.body.as_deref());
        Ok::<ApiGatewayProxyResponse, Error>(response(200, Some(reply.to_string())))
    }))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_get_pongs_and_the_rest_an_acknowledgement() {
        assert_eq!(answer(Some(r#"{"action":"ping"}"#)), json!({"type":"pong"}));
        assert_eq!(answer(Some("ping")), json!({"type":"pong"}));
        assert_eq!(answer(Some(r#"{"hello":1}"#)), json!({"type":"ack","received":{"hello":1}}));
        assert_eq!(answer(Some("hi")), json!({"type":"ack","received":"hi"}));
    }
}
