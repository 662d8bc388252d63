//! Random and mutated `serverless.yml` text never makes the loader panic: it loads or returns an error.

use ftb_offline::aws::endpoints::LocalEndpoints;
use ftb_offline::config::intrinsics::Intrinsics;
use ftb_offline::config::{self, LoadOptions};
use proptest::prelude::*;
use std::path::Path;
use std::sync::Arc;

const APP: &str = include_str!("../serverless.yml");

/// Pieces that steer random text towards the loader's interesting paths.
const PIECES: &[&str] = &[
    "service: x\n",
    "provider:\n  name: aws\n",
    "  environment:\n",
    "    A: ",
    "${self:",
    "${opt:stage",
    "${env:X",
    "${file(./nope.yml):a}",
    "${param:p}",
    "${sls:stage}",
    ", 'd'}",
    "}",
    "!Ref ",
    "!GetAtt A.B",
    "!Sub '${AWS::Region}'",
    "!Join [':', [a, b]]",
    "!If [C, a, b]",
    "functions:\n",
    "  f:\n",
    "    handler: bootstrap\n",
    "    events:\n",
    "      - http: GET /x\n",
    "      - sqs: !GetAtt Q.Arn\n",
    "resources:\n",
    "  Resources:\n",
    "    Q: { Type: AWS::SQS::Queue }\n",
    "&a ",
    "*a",
    "<<: *a\n",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    ":",
    "-",
    "\n",
    "  ",
    "custom.a",
    "\t",
    "\u{0}",
    "é",
];

fn load_everything(text: &str) {
    let options = LoadOptions { env: Arc::new(|_| None), ..LoadOptions::default() };
    if let Ok(service) = config::load_str(text, Path::new("/nonexistent/serverless.yml"), &options) {
        let endpoints =
            LocalEndpoints { host: "127.0.0.1".into(), http_port: 1, websocket_port: 2, lambda_port: 3, s3_port: 4 };
        let intrinsics = Intrinsics::new(&service, &endpoints);
        for function in service.functions.values() {
            let _ = intrinsics.environment(function);
        }
        for (name, resource) in &service.resources.resources {
            let _ = intrinsics.resolve(&resource.properties, name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_pieces_never_panic(picks in proptest::collection::vec(0..PIECES.len(), 0..60)) {
        let text: String = picks.iter().map(|&i| PIECES[i]).collect();
        load_everything(&text);
    }

    #[test]
    fn mutations_of_the_app_never_panic(edits in proptest::collection::vec((0..APP.len(), 0..PIECES.len(), any::<bool>()), 1..6)) {
        let mut text = APP.to_string();
        for (at, piece, delete) in edits {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) { at -= 1; }
            if delete {
                let mut end = (at + 7).min(text.len());
                while !text.is_char_boundary(end) { end -= 1; }
                text.replace_range(at..end, "");
            } else {
                text.insert_str(at, PIECES[piece]);
            }
        }
        load_everything(&text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(text in "\\PC{0,300}") {
        load_everything(&text);
    }
}
