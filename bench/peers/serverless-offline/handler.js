// What bench/hello (the Rust handler) does: read the JSON body, answer {"message":"hello","n":…} as a proxy response.
exports.hello = async (event) => {
  let request = event;
  if (typeof event.body === 'string') {
    try { request = JSON.parse(event.body); } catch { request = null; }
  }
  const answer = { message: 'hello', n: request?.n ?? null };
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer), isBase64Encoded: false, cookies: [] };
};

// What bench-whoami does: answer the caller's connection id as the WebSocket route response.
exports.whoami = async (event) => ({ statusCode: 200, body: event.requestContext.connectionId });

// What bench-sqs does: for each record, whose body is the send time in epoch microseconds, append
// `sent,started` (handler start, epoch microseconds) to $BENCH_OUT.
const fs = require('fs');
exports.consume = async (event) => {
  const started = Math.round((performance.timeOrigin + performance.now()) * 1000);
  const lines = event.Records.map((record) => `${record.body},${started}\n`).join('');
  fs.appendFileSync(process.env.BENCH_OUT, lines);
};
