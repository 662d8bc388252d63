//! Authorizers and API keys end to end (`tests/fixtures/auth.yml`): a real Lambda authorizer process
//! (`fixture-authorizer`), real RS256 tokens from an issuer on loopback whose keys the emulator discovers, a real
//! WebSocket client, and the integration (`fixture-event`) recording every request that reaches it.

use ftb_offline::Emulator;
use ftb_offline_tests::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

struct Auth {
    emulator: Emulator,
    events: tempfile::TempDir,
    issuer: Issuer,
    client: reqwest::Client,
}

async fn start_auth() -> Auth {
    let events = tempfile::tempdir().unwrap();
    let issuer = Issuer::start().await;
    let emulator = start(auth_options(events.path(), &issuer.url)).await;
    Auth { emulator, events, issuer, client: reqwest::Client::new() }
}

/// A response's status, `x-amzn-ErrorType` and body.
struct Answer {
    status: u16,
    error_type: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// What the integration was sent (`fixture-event` answers with its event).
    fn event(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.json()
    }
}

impl Auth {
    fn rest(&self, path: &str) -> String {
        format!("{}/dev{path}", self.emulator.endpoints().http_url())
    }

    fn http_api(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.endpoints().http_url())
    }

    async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self.client.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        answer(request.send().await.unwrap()).await
    }

    /// GET with `Authorization: <token>`.
    async fn get_as(&self, url: &str, token: &str) -> Answer {
        self.get(url, &[("authorization", token)]).await
    }

    /// The events the authorizer was called with.
    fn authorizer_calls(&self) -> Vec<Value> {
        recorded_lines(self.events.path(), "authorizer.jsonl")
    }

    fn calls_with(&self, token: &str) -> usize {
        self.authorizer_calls().iter().filter(|e| calls_token(e) == token).count()
    }

    /// The requests that reached the integration.
    fn integration_calls(&self) -> Vec<Value> {
        recorded_lines(self.events.path(), "http.jsonl")
    }
}

fn calls_token(event: &Value) -> &str {
    event["authorizationToken"]
        .as_str()
        .or(event["identitySource"][0].as_str())
        .or(event["headers"]["Authorization"].as_str())
        .or(event["queryStringParameters"]["token"].as_str())
        .unwrap_or_default()
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let error_type = response.headers().get("x-amzn-errortype").map(|v| v.to_str().unwrap().to_string());
    Answer { status, error_type, body: response.text().await.unwrap() }
}

const UNAUTHORIZED: &str = r#"{"message":"Unauthorized"}"#;
const EXPLICIT_DENY: &str = r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#;
const IMPLICIT_DENY: &str = r#"{"Message":"User is not authorized to access this resource"}"#;

fn assert_refused(answer: &Answer, status: u16, error_type: &str, body: &str) {
    assert_eq!(
        (answer.status, answer.error_type.as_deref(), answer.body.as_str()),
        (status, Some(error_type), body),
        "the gateway's own response"
    );
}

#[tokio::test]
async fn rest_token_authorizers_allow_deny_and_fail_as_api_gateway_answers() {
    let auth = start_auth().await;
    let url = auth.rest("/token/1");

    let allowed = auth.get_as(&url, "allow-1").await.event();
    let context = &allowed["requestContext"]["authorizer"];
    assert_eq!(context["principalId"], "user-allow-1");
    assert_eq!(
        (&context["user"], &context["number"], &context["flag"]),
        (&json!("allow-1"), &json!("7"), &json!("true")),
        "context values reach a REST integration as strings"
    );
    assert!(context["integrationLatency"].is_u64(), "{context}");
    let call = &auth.authorizer_calls()[0];
    assert_eq!(
        call,
        &json!({
            "type": "TOKEN",
            "authorizationToken": "allow-1",
            "methodArn": "arn:aws:execute-api:eu-north-1:000000000000:localrest/dev/GET/token/1",
        }),
        "a TOKEN authorizer gets the token and the method ARN, nothing else"
    );

    let before = auth.authorizer_calls().len();
    assert_refused(&auth.get(&url, &[]).await, 401, "UnauthorizedException", UNAUTHORIZED);
    assert_refused(&auth.get_as(&url, "").await, 401, "UnauthorizedException", UNAUTHORIZED);
    assert_eq!(auth.authorizer_calls().len(), before, "no identity: the authorizer is not called");

    assert_refused(&auth.get_as(&url, "deny").await, 403, "AccessDeniedException", EXPLICIT_DENY);
    assert_refused(&auth.get_as(&url, "unauthorized").await, 401, "UnauthorizedException", UNAUTHORIZED);
    let failure = r#"{"message": null}"#;
    for token in ["crash", "malformed", "nested", "slow"] {
        let refused = auth.get_as(&url, token).await;
        assert_refused(&refused, 500, "AuthorizerConfigurationException", failure);
    }
    assert_eq!(auth.calls_with("crash"), 1);
    let crashed_again = auth.get_as(&url, "crash").await;
    assert_eq!((crashed_again.status, auth.calls_with("crash")), (500, 2), "failures are not cached");
    assert_eq!(auth.integration_calls().len(), 1, "only the allowed request reached the integration");
}

#[tokio::test]
async fn cached_policies_are_evaluated_against_each_method_and_expire() {
    let auth = start_auth().await;
    for _ in 0..5 {
        assert_eq!(auth.get_as(&auth.rest("/token/1"), "allow-cached").await.status, 200);
    }
    assert_eq!(auth.calls_with("allow-cached"), 1, "five requests with one token: one call (TTL 300 s)");
    // The policy allows only the method ARN it was first asked about; the cached policy is evaluated again.
    assert_refused(
        &auth.get_as(&auth.rest("/token/2"), "allow-cached").await,
        403,
        "AccessDeniedException",
        IMPLICIT_DENY,
    );
    assert_refused(
        &auth.get_as(&auth.rest("/other/1"), "allow-cached").await,
        403,
        "AccessDeniedException",
        IMPLICIT_DENY,
    );
    assert_eq!(auth.calls_with("allow-cached"), 1, "the cache is keyed by the token, not the route");

    assert_eq!(auth.get_as(&auth.rest("/token/1"), "allow-all").await.status, 200);
    assert_eq!(
        auth.get_as(&auth.rest("/other/9"), "allow-all").await.status,
        200,
        "a wildcard resource allows another route"
    );
    assert_eq!(auth.calls_with("allow-all"), 1);

    assert_eq!(auth.get_as(&auth.rest("/token/1"), "mixed").await.status, 200);
    assert_refused(&auth.get_as(&auth.rest("/other/1"), "mixed").await, 403, "AccessDeniedException", EXPLICIT_DENY);

    let short = auth.rest("/short");
    assert_eq!(auth.get_as(&short, "allow-short").await.status, 200);
    assert_eq!(auth.get_as(&short, "allow-short").await.status, 200);
    assert_eq!(auth.calls_with("allow-short"), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(auth.get_as(&short, "allow-short").await.status, 200);
    assert_eq!(auth.calls_with("allow-short"), 2, "called again once the 1 s TTL has passed");

    let validated = auth.rest("/validated");
    assert_refused(&auth.get_as(&validated, "deny").await, 401, "UnauthorizedException", UNAUTHORIZED);
    assert_eq!(auth.calls_with("deny"), 0, "a token failing identityValidationExpression is refused uncalled");
    assert_eq!(auth.get_as(&validated, "allow-valid").await.status, 200);
    assert_eq!(auth.get_as(&validated, "allow-valid").await.status, 200);
    assert_eq!(auth.calls_with("allow-valid"), 2, "resultTtlInSeconds: 0 calls every time");
}

#[tokio::test]
async fn request_authorizers_need_every_identity_source_and_get_the_request() {
    let auth = start_auth().await;
    let url = auth.rest("/request/42");
    let send = |query: &'static str| {
        auth.client.post(format!("{url}{query}")).header("authorization", "allow-request").body("the body").send()
    };
    assert_refused(&answer(send("").await.unwrap()).await, 401, "UnauthorizedException", UNAUTHORIZED);
    assert_eq!(auth.authorizer_calls().len(), 0, "a missing identity source: not called");

    let event = answer(send("?tenant=acme").await.unwrap()).await.event();
    assert_eq!(event["requestContext"]["authorizer"]["principalId"], "user-allow-request");
    let call = &auth.authorizer_calls()[0];
    assert_eq!(call["type"], "REQUEST");
    assert_eq!(call["methodArn"], "arn:aws:execute-api:eu-north-1:000000000000:localrest/dev/POST/request/42");
    assert_eq!((call["resource"].as_str(), call["path"].as_str()), (Some("/request/{id}"), Some("/request/42")));
    assert_eq!(call["pathParameters"], json!({"id": "42"}));
    assert_eq!(call["queryStringParameters"], json!({"tenant": "acme"}));
    assert_eq!(call["headers"]["Authorization"], "allow-request");
    assert_eq!(call["requestContext"]["httpMethod"], "POST");
    assert!(call.get("body").is_none(), "a REQUEST authorizer gets no body");
}

#[tokio::test]
async fn api_keys_guard_private_routes() {
    let auth = start_auth().await;
    let url = auth.rest("/keyed");
    let forbidden = r#"{"message":"Forbidden"}"#;
    assert_refused(&auth.get(&url, &[]).await, 403, "ForbiddenException", forbidden);
    assert_refused(
        &auth.get(&url, &[("x-api-key", "not-a-key-0123456789")]).await,
        403,
        "ForbiddenException",
        forbidden,
    );
    let fixed = auth.get(&url, &[("x-api-key", "fixed-key-0123456789abcdef")]).await.event();
    assert_eq!(fixed["requestContext"]["identity"]["apiKey"], "fixed-key-0123456789abcdef");
    assert!(fixed["requestContext"]["identity"]["apiKeyId"].as_str().is_some_and(|id| !id.is_empty()));

    let keys = auth.emulator.api_keys();
    let generated = keys.iter().find(|k| k.name == "generated").expect("the key named without a value");
    assert!(
        generated.value.len() == 40 && generated.value.chars().all(|c| c.is_ascii_alphanumeric()),
        "{}",
        generated.value
    );
    assert_eq!(auth.get(&url, &[("x-api-key", &generated.value)]).await.status, 200);
    assert_eq!(auth.integration_calls().len(), 2);

    assert_eq!(auth.get(&auth.rest("/open"), &[]).await.status, 200, "a route without authorizer or key is open");
    let iam = auth.get(&auth.rest("/iam"), &[("authorization", "AWS4-HMAC-SHA256 Credential=x")]).await;
    assert_refused(&iam, 500, "AuthorizerConfigurationException", r#"{"message": null}"#);
    assert_eq!(auth.integration_calls().len(), 3, "aws_iam cannot be checked here: refused, never let through");
    let no_key = auth.get(&auth.rest("/keyed-authorized"), &[("authorization", "allow-all")]).await;
    assert_eq!(no_key.status, 403, "an authorizer's allow does not stand in for the key");
    let both = auth
        .get(
            &auth.rest("/keyed-authorized"),
            &[("authorization", "allow-all"), ("x-api-key", "fixed-key-0123456789abcdef")],
        )
        .await;
    assert_eq!(both.event()["requestContext"]["authorizer"]["principalId"], "user-allow-all");
}

#[tokio::test]
async fn an_authorizer_can_supply_the_api_key() {
    let events = tempfile::tempdir().unwrap();
    let mut options = auth_options(events.path(), "http://127.0.0.1:9/issuer");
    options.load.params.insert("keySource".into(), "AUTHORIZER".into());
    let emulator = start(options).await;
    let url = format!("{}/dev/keyed-authorized", emulator.endpoints().http_url());
    let client = reqwest::Client::new();
    let get = |token: &str, header: Option<&str>| {
        let mut request = client.get(&url).header("authorization", token);
        if let Some(key) = header {
            request = request.header("x-api-key", key);
        }
        async move { answer(request.send().await.unwrap()).await }
    };
    let event = get("key:fixed-key-0123456789abcdef", None).await.event();
    assert_eq!(event["requestContext"]["identity"]["apiKey"], "fixed-key-0123456789abcdef", "usageIdentifierKey");
    let refused = get("key:not-one-of-the-keys-at-all", Some("fixed-key-0123456789abcdef")).await;
    assert_refused(&refused, 403, "ForbiddenException", r#"{"message":"Forbidden"}"#);
    assert_eq!(get("allow-all", Some("fixed-key-0123456789abcdef")).await.status, 403, "the header is not read");
}

#[tokio::test]
async fn ignore_jwt_signature_checks_claims_but_not_signatures() {
    let events = tempfile::tempdir().unwrap();
    let issuer = Issuer::start().await;
    let mut options = auth_options(events.path(), &issuer.url);
    options.auth.ignore_jwt_signature = true;
    let emulator = start(options).await;
    let url = format!("{}/jwt", emulator.endpoints().http_url());
    let client = reqwest::Client::new();
    let status = |token: String| {
        let request = client.get(&url).header("authorization", format!("Bearer {token}"));
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(issuer.forged_token(&issuer.claims())).await, 200, "any signature");
    let mut expired = issuer.claims();
    expired["exp"] = json!(epoch_seconds() - 5);
    assert_eq!(status(issuer.forged_token(&expired)).await, 401, "the claims are still checked");
    assert_eq!(issuer.key_fetches(), 0, "no key is fetched");
}

#[tokio::test]
async fn http_api_jwt_authorizers_check_real_tokens() {
    let auth = start_auth().await;
    let (url, scoped) = (auth.http_api("/jwt"), auth.http_api("/jwt-scoped"));
    let issuer = &auth.issuer;
    // One set of claims: two would differ in `iat` and `exp` when a second passes between them.
    let claims = issuer.claims();
    let valid = issuer.token(&claims);

    let event = auth.get_as(&url, &format!("Bearer {valid}")).await.event();
    let jwt = &event["requestContext"]["authorizer"]["jwt"];
    assert_eq!(jwt["claims"]["sub"], "user-1");
    assert_eq!(jwt["claims"]["aud"], "ftb-app");
    assert_eq!(jwt["claims"]["exp"], claims["exp"].to_string(), "numbers reach the integration as strings");
    assert_eq!(jwt["scopes"], Value::Null, "no scopes on a route without scopes");
    assert_eq!(auth.get_as(&url, &valid).await.status, 200, "a bare token is accepted too");
    assert_eq!(issuer.key_fetches(), 1, "the key set is fetched once, then kept");

    let unauthorized = |answer: Answer| (answer.status, answer.body);
    let expected = (401, UNAUTHORIZED.to_string());
    let mut expired = issuer.claims();
    expired["exp"] = json!(epoch_seconds() - 5);
    assert_eq!(unauthorized(auth.get_as(&url, &issuer.token(&expired)).await), expected, "expired");
    let mut early = issuer.claims();
    early["nbf"] = json!(epoch_seconds() + 600);
    assert_eq!(unauthorized(auth.get_as(&url, &issuer.token(&early)).await), expected, "not valid yet");
    let mut stranger = issuer.claims();
    stranger["aud"] = json!("someone-else");
    assert_eq!(unauthorized(auth.get_as(&url, &issuer.token(&stranger)).await), expected, "wrong audience");
    let mut client_only = issuer.claims();
    client_only.as_object_mut().unwrap().remove("aud");
    client_only["client_id"] = json!("ftb-app");
    assert_eq!(
        auth.get_as(&url, &issuer.token(&client_only)).await.status,
        200,
        "client_id stands in for a missing aud"
    );
    let mut other_issuer = issuer.claims();
    other_issuer["iss"] = json!(format!("{}/", issuer.url));
    assert_eq!(unauthorized(auth.get_as(&url, &issuer.token(&other_issuer)).await), expected, "iss must match exactly");
    assert_eq!(
        unauthorized(auth.get_as(&url, &issuer.forged_token(&issuer.claims())).await),
        expected,
        "bad signature"
    );
    assert_eq!(unauthorized(auth.get(&url, &[]).await), expected, "no token");
    assert_eq!(unauthorized(auth.get_as(&url, "Bearer not.a.jwt").await), expected, "garbage");

    let forbidden = auth.get_as(&scoped, &valid).await;
    assert_eq!((forbidden.status, forbidden.body.as_str()), (403, r#"{"message":"Forbidden"}"#), "missing scope");
    let mut scoped_claims = issuer.claims();
    scoped_claims["scope"] = json!("profile tasks.read");
    let event = auth.get_as(&scoped, &issuer.token(&scoped_claims)).await.event();
    assert_eq!(event["requestContext"]["authorizer"]["jwt"]["scopes"], json!(["profile", "tasks.read"]));
    assert_eq!(auth.integration_calls().len(), 4, "only the four valid tokens reached the integration");
}

#[tokio::test]
async fn cognito_user_pool_authorizers_check_the_pools_tokens() {
    let auth = start_auth().await;
    let issuer = &auth.issuer;
    let pool = "https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_test";
    let now = epoch_seconds();
    let id_token = json!({"iss": pool, "aud": "app-client", "sub": "u-1", "token_use": "id", "email": "a@b.c",
        "cognito:groups": ["admin", "ops"], "email_verified": true, "exp": now + 600, "iat": now - 5, "auth_time": now - 5});
    // Signed with the key whose public half is the pool's JWKS file (custom.ftb-offline.jwks).
    let event = auth.get_as(&auth.rest("/cognito-id"), &issuer.token(&id_token)).await.event();
    let claims = &event["requestContext"]["authorizer"]["claims"];
    assert_eq!((claims["sub"].as_str(), claims["email"].as_str()), (Some("u-1"), Some("a@b.c")));
    assert_eq!(claims["cognito:groups"], "[admin ops]");
    assert_eq!(claims["email_verified"], "true");
    assert_eq!(claims["auth_time"], (now - 5).to_string(), "auth_time stays a number, as text");
    let exp = claims["exp"].as_str().unwrap();
    assert!(exp.len() == 28 && exp[19..].starts_with(" UTC 2"), "exp as Java's Date.toString() writes it: {exp}");

    let refused = auth.get_as(&auth.rest("/cognito-id"), &issuer.forged_token(&id_token)).await;
    assert_refused(&refused, 401, "UnauthorizedException", UNAUTHORIZED);
    let mut other_pool = id_token.clone();
    other_pool["iss"] = json!("https://cognito-idp.eu-north-1.amazonaws.com/eu-north-1_other");
    assert_eq!(auth.get_as(&auth.rest("/cognito-id"), &issuer.token(&other_pool)).await.status, 401);

    let scoped = auth.rest("/cognito");
    assert_eq!(
        auth.get_as(&scoped, &issuer.token(&id_token)).await.status,
        401,
        "a route with scopes takes access tokens"
    );
    let access = json!({"iss": pool, "client_id": "app-client", "sub": "u-1", "token_use": "access",
        "scope": "tasks/read openid", "exp": now + 600, "iat": now - 5});
    assert_eq!(auth.get_as(&scoped, &issuer.token(&access)).await.status, 200);
    assert_eq!(
        auth.get_as(&auth.rest("/cognito-id"), &issuer.token(&access)).await.status,
        401,
        "one without, ID tokens"
    );
    let mut unscoped = access.clone();
    unscoped["scope"] = json!("openid");
    assert_eq!(auth.get_as(&scoped, &issuer.token(&unscoped)).await.status, 403, "none of the route's scopes");
    assert_eq!(auth.integration_calls().len(), 2);
}

#[tokio::test]
async fn http_api_lambda_authorizers_answer_simply_or_with_a_policy() {
    let auth = start_auth().await;
    let simple = auth.http_api("/simple");
    let event = auth.get_as(&simple, "allow-simple").await.event();
    assert_eq!(
        event["requestContext"]["authorizer"]["lambda"],
        json!({"user": "allow-simple", "number": 7, "flag": true}),
        "an HTTP API hands over the context as returned"
    );
    assert_eq!(auth.get_as(&simple, "allow-simple").await.status, 200);
    assert_eq!(auth.calls_with("allow-simple"), 1, "cached for resultTtlInSeconds");
    let call = &auth.authorizer_calls()[0];
    assert_eq!((call["version"].as_str(), call["type"].as_str()), (Some("2.0"), Some("REQUEST")));
    assert_eq!(call["routeArn"], "arn:aws:execute-api:eu-north-1:000000000000:localhttp/$default/GET/simple");
    assert_eq!(call["identitySource"], json!(["allow-simple"]));
    assert_eq!(call["routeKey"], "GET /simple");

    let denied = auth.get_as(&simple, "deny").await;
    assert_eq!((denied.status, denied.body.as_str()), (403, r#"{"message":"Forbidden"}"#));
    let broken = auth.get_as(&simple, "malformed").await;
    assert_eq!((broken.status, broken.body.as_str()), (500, r#"{"message":"Internal Server Error"}"#));
    let missing = auth.get(&simple, &[]).await;
    assert_eq!((missing.status, missing.body.as_str()), (401, UNAUTHORIZED));

    let v1 = auth.http_api("/v1/5");
    assert_eq!(auth.get_as(&v1, "allow-v1").await.status, 200);
    let call = auth.authorizer_calls().into_iter().find(|c| calls_token(c) == "allow-v1").unwrap();
    assert_eq!((call["version"].as_str(), call["type"].as_str()), (Some("1.0"), Some("REQUEST")));
    assert_eq!(call["methodArn"], "arn:aws:execute-api:eu-north-1:000000000000:localhttp/$default/GET/v1/5");
    assert_eq!(
        (call["identitySource"].as_str(), call["authorizationToken"].as_str()),
        (Some("allow-v1"), Some("allow-v1"))
    );
    assert_eq!(auth.get_as(&v1, "deny").await.status, 403);
}

#[tokio::test]
async fn a_websocket_connect_authorizer_guards_the_handshake_and_its_context_stays() {
    let auth = start_auth().await;
    let base = auth.emulator.endpoints().websocket_url();
    let refused = |query: &'static str| {
        let url = format!("{base}/{query}");
        async move {
            match tokio_tungstenite::connect_async(url).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
                other => panic!("expected a refused handshake, got {:?}", other.map(|_| ())),
            }
        }
    };
    assert_eq!(refused("").await, 401, "no token in the query string");
    assert_eq!(refused("?token=deny").await, 403);
    assert_eq!(refused("?token=crash").await, 500);
    assert!(recorded_events(auth.events.path()).is_empty(), "no refused connection reached $connect");

    let (mut client, _) = tokio_tungstenite::connect_async(format!("{base}/?token=allow-ws")).await.unwrap();
    client.send(Message::text(json!({"action": "hello"}).to_string())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), client.next()).await.unwrap().unwrap().unwrap();
    assert!(reply.is_text());
    let call = &auth.authorizer_calls().into_iter().find(|c| calls_token(c) == "allow-ws").unwrap();
    assert_eq!(call["type"], "REQUEST");
    assert_eq!(call["methodArn"], "arn:aws:execute-api:eu-north-1:000000000000:localws/dev/$connect");
    assert_eq!(call["requestContext"]["eventType"], "CONNECT");
    let events = recorded_events(auth.events.path());
    assert_eq!(events.len(), 2, "CONNECT and MESSAGE: {events:?}");
    for event in &events {
        let authorizer = &event["requestContext"]["authorizer"];
        assert_eq!(authorizer["principalId"], "user-allow-ws", "{}", event["requestContext"]["eventType"]);
        assert_eq!(authorizer["user"], "allow-ws");
    }
}

#[tokio::test]
async fn no_auth_opens_every_route_and_says_so() {
    let events = tempfile::tempdir().unwrap();
    let mut options = auth_options(events.path(), "http://127.0.0.1:9/issuer");
    options.auth.no_auth = true;
    let emulator = start(options).await;
    let base = emulator.endpoints().http_url();
    for path in ["/dev/token/1", "/dev/keyed", "/dev/iam", "/jwt", "/simple"] {
        let response = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    assert!(recorded_lines(events.path(), "authorizer.jsonl").is_empty());
    assert_eq!(recorded_lines(events.path(), "http.jsonl").len(), 5);
}

/// Malformed `Authorization` headers and tokens, and tokens the fixture authorizer refuses: none may reach an
/// integration, whatever guards it.
fn malformed_identities() -> Vec<String> {
    vec![
        "Bearer".into(),
        "Bearer ".into(),
        "Bearer a.b".into(),
        "Bearer a.b.c".into(),
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".into(),
        "Basic dXNlcjpwYXNz".into(),
        "x".repeat(8192),
        "deny".into(),
        "unauthorized".into(),
        "crash".into(),
        "malformed".into(),
        "\u{00e9}t\u{00e9}".into(),
    ]
}

#[tokio::test]
async fn no_request_without_a_valid_identity_reaches_a_protected_route() {
    let dir = repo_root().join("tests/fixtures");
    let generated = generated_service(&dir);
    let events = tempfile::tempdir().unwrap();
    let issuer = Issuer::start().await;
    let mut options = auth_options(events.path(), &issuer.url);
    options.config_path = generated.path().to_path_buf();
    let emulator = start(options).await;
    let base = emulator.endpoints().http_url();
    let client = reqwest::Client::new();
    let routes = emulator_routes(&emulator);
    assert!(routes.len() >= 20, "{routes:?}");
    let mut identities: Vec<Option<String>> = vec![None];
    identities.extend(malformed_identities().into_iter().map(Some));
    identities.push(Some(issuer.forged_token(&issuer.claims())));
    for (method, path) in &routes {
        for identity in &identities {
            let mut request = client.request(method.parse().unwrap(), format!("{base}{path}"));
            if let Some(identity) = identity {
                request = request.header("authorization", identity.as_bytes()).header("x-api-key", identity.as_bytes());
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert!([401, 403, 500].contains(&status), "{method} {path} with {identity:?} answered {status}");
        }
    }
    assert!(recorded_lines(events.path(), "http.jsonl").is_empty(), "an unauthorized request reached an integration");
    assert!(!recorded_lines(events.path(), "authorizer.jsonl").is_empty(), "the authorizers did run");
    let allowed = client.get(format!("{base}/dev/token")).header("authorization", "allow-all").send().await.unwrap();
    assert_eq!(allowed.status(), 200, "a valid identity does get through");
    assert_eq!(recorded_lines(events.path(), "http.jsonl").len(), 1);
}

/// A service whose every route is protected, one per authorizer kind, method and path shape; deleted on drop.
fn generated_service(dir: &Path) -> tempfile::NamedTempFile {
    let guards = [
        ("token", "authorizer: authorizer"),
        ("request", "authorizer: { name: req, arn: !GetAtt AuthorizerLambdaFunction.Arn, type: request, identitySource: method.request.header.Authorization }"),
        ("uncached", "authorizer: { name: nocache, arn: !GetAtt AuthorizerLambdaFunction.Arn, resultTtlInSeconds: 0 }"),
        ("keyed", "private: true"),
        ("both", "private: true, authorizer: authorizer"),
        ("iam", "authorizer: aws_iam"),
    ];
    let http_api_guards = [("jwt", "jwt"), ("simple", "simple"), ("policy", "policy")];
    let methods = ["get", "post", "delete"];
    let mut events = String::new();
    for (kind, guard) in guards {
        for method in methods {
            for path in [format!("/{kind}"), format!("/{kind}/{{id}}/{method}")] {
                events.push_str(&format!("      - http: {{ method: {method}, path: '{path}', {guard} }}\n"));
            }
        }
    }
    for (kind, name) in http_api_guards {
        for method in methods {
            let path = format!("/h/{kind}/{{id}}");
            events.push_str(&format!(
                "      - httpApi: {{ method: {method}, path: '{path}', authorizer: {{ name: {name} }} }}\n"
            ));
        }
    }
    let fixture = std::fs::read_to_string(dir.join("auth.yml")).unwrap();
    let head = &fixture[..fixture.find("functions:").unwrap()];
    let text = format!(
        "{head}functions:\n  authorizer:\n    handler: bootstrap\n    package: {{ artifact: target/lambda/fixture-authorizer/bootstrap.zip }}\n    timeout: 2\n  protected:\n    handler: bootstrap\n    package: {{ artifact: target/lambda/fixture-event/bootstrap.zip }}\n    events:\n{events}"
    );
    let mut file = tempfile::Builder::new().prefix(".generated-auth-").suffix(".yml").tempfile_in(dir).unwrap();
    std::io::Write::write_all(&mut file, text.replace("service: ftb-auth", "service: ftb-auth-generated").as_bytes())
        .unwrap();
    file
}

/// Every route the emulator serves, as (method, a concrete path).
fn emulator_routes(emulator: &Emulator) -> Vec<(String, String)> {
    let service = emulator.service();
    let mut routes = Vec::new();
    for function in service.functions.values() {
        for event in &function.events {
            let (method, path) = match event {
                ftb_offline::config::Event::Http(http) => (http.method.clone(), format!("/dev{}", http.path)),
                ftb_offline::config::Event::HttpApi(http) => (http.method.clone(), http.path.clone()),
                _ => continue,
            };
            routes.push((method, path.replace("{id}", "7")));
        }
    }
    routes
}

/// `examples/authorized`, as `examples/README.md` calls it with curl: the Node.js authorizer and the JWT
/// authorizer with the example's JWKS file and the tokens `mint-token.mjs` signs.
#[tokio::test]
async fn the_authorized_example_answers_as_its_readme_says() {
    let example = repo_root().join("examples/authorized");
    let mut options = fixture_options();
    options.config_path = example.join("serverless.yml");
    let emulator = start(options).await;
    let base = emulator.endpoints().http_url();
    let client = reqwest::Client::new();
    let get = |path: &str, authorization: Option<String>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        async move { answer(request.send().await.unwrap()).await }
    };
    assert_eq!(get("/dev/hello", None).await.status, 401);
    assert_eq!(get("/dev/hello", Some("Bearer deny".into())).await.status, 403);
    let hello = get("/dev/hello", Some("Bearer allow-ada".into())).await.json();
    assert_eq!(
        (hello["authorizer"]["principalId"].as_str(), hello["authorizer"]["user"].as_str()),
        (Some("ada"), Some("ada"))
    );
    assert_eq!(get("/dev/public", None).await.json(), json!({"authorizer": null}));

    let mint = |args: &'static [&'static str]| {
        let script = example.join("mint-token.mjs");
        async move {
            let output = tokio::process::Command::new("node").arg(script).args(args).output().await.expect("node runs");
            assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
            String::from_utf8(output.stdout).unwrap().trim().to_string()
        }
    };
    let token = mint(&["ada"]).await;
    let me = get("/me", Some(format!("Bearer {token}"))).await.json();
    assert_eq!(
        (me["authorizer"]["jwt"]["claims"]["sub"].as_str(), &me["authorizer"]["jwt"]["scopes"]),
        (Some("ada"), &Value::Null)
    );
    assert_eq!(get("/me/tasks", Some(format!("Bearer {token}"))).await.status, 403);
    let scoped = mint(&["ada", "tasks.read"]).await;
    assert_eq!(get("/me/tasks", Some(format!("Bearer {scoped}"))).await.status, 200);
    assert_eq!(get("/me", Some("Bearer not-a-token".into())).await.status, 401);
}
