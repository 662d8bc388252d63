//! Every fuzz target over its checked-in corpus (fuzz/corpus/<target>/), plus a bounded number of cheap
//! mutations of each input (bytes flipped, cut short, doubled), in every test run: the same code paths the
//! fuzzer drives, so a crash it once found stays fixed. The long `cargo fuzz` runs are outside CI
//! (fuzz/README.md; docs/RELIABILITY.md has their last results).

use std::path::Path;

/// The corpus inputs of one target.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    let mut inputs: Vec<Vec<u8>> =
        std::fs::read_dir(&dir).unwrap().map(|entry| std::fs::read(entry.unwrap().path()).unwrap()).collect();
    assert!(!inputs.is_empty(), "{} has no corpus", dir.display());
    inputs.sort();
    inputs
}

/// The input and a few deterministic variations: truncated at several points, a byte changed at several
/// offsets, and doubled.
fn variations(input: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![input.to_vec(), input.repeat(2)];
    for step in 1..=8 {
        let at = input.len() * step / 9;
        out.push(input[..at].to_vec());
        let mut flipped = input.to_vec();
        if let Some(byte) = flipped.get_mut(at) {
            *byte ^= 0xA5;
        }
        out.push(flipped);
    }
    out
}

/// Panics anywhere in the process, the emulator's own tasks included (a panic there only drops a connection, which
/// the replay would not notice otherwise).
static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn count_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
}

fn replay(target: &str, run: fn(&[u8])) -> usize {
    count_panics();
    let mut count = 0;
    for input in corpus(target) {
        for variation in variations(&input) {
            run(&variation);
            count += 1;
        }
    }
    println!("fuzz corpus: {target}: {count} inputs");
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0, "a panic while replaying {target}'s corpus");
    count
}

#[test]
fn config_corpus() {
    assert!(replay("config", ftb_fuzz::config) > 0);
}

#[test]
fn sqs_json_corpus() {
    assert!(replay("sqs_json", ftb_fuzz::sqs_json) > 0);
}

#[test]
fn sqs_query_corpus() {
    assert!(replay("sqs_query", ftb_fuzz::sqs_query) > 0);
}

#[test]
fn lambda_port_corpus() {
    assert!(replay("lambda_port", ftb_fuzz::lambda_port) > 0);
}

#[test]
fn http_port_corpus() {
    assert!(replay("http_port", ftb_fuzz::http_port) > 0);
}

#[test]
fn sns_query_corpus() {
    assert!(replay("sns_query", ftb_fuzz::sns_query) > 0);
}

#[test]
fn s3_port_corpus() {
    assert!(replay("s3_port", ftb_fuzz::s3_port) > 0);
}
