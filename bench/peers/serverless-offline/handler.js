// What bench/src/bin/bench-hello.rs does: read the event, answer {"message":"hello","n":…}.
exports.hello = async (event) => ({ message: 'hello', n: event.n ?? null });
