// What bench/hello (the Rust handler) does: read the JSON body, answer {"message":"hello","n":…} as a proxy response.
exports.hello = async (event) => {
  let request = event;
  if (typeof event.body === 'string') {
    try { request = JSON.parse(event.body); } catch { request = null; }
  }
  const answer = { message: 'hello', n: request?.n ?? null };
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(answer), isBase64Encoded: false, cookies: [] };
};
