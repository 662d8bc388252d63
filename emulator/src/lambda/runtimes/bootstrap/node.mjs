// ftb-offline's bootstrap for Lambda's Node.js runtimes (nodejs18.x … nodejs24.x). The emulator embeds this file,
// writes it to its staging folder and starts it with the machine's `node`, one process per execution environment,
// with cwd = LAMBDA_TASK_ROOT. It speaks the Lambda Runtime API at AWS_LAMBDA_RUNTIME_API as AWS's Node.js runtime
// interface client (aws-lambda-nodejs-runtime-interface-client, "the RIC" below) does: the handler string
// resolved the same way, the same invocation model (async, callback, callbackWaitsForEmptyEventLoop, streaming),
// the same context object, error documents and console format. Node's standard library only.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';

const require = createRequire(import.meta.url);
const env = process.env;
const [API_HOST, API_PORT] = (env.AWS_LAMBDA_RUNTIME_API || '127.0.0.1:9001').split(':');
const API_PREFIX = '/2018-06-01/runtime';
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const runtimeMajor = Number((/nodejs(\d+)/.exec(env.AWS_EXECUTION_ENV || '') || [])[1] || 0);
// Node.js 24's runtime removed callback handlers and context.succeed/fail/done (RIC v4).
const callbacksRemoved = runtimeMajor >= 24;

// ---------------------------------------------------------------------------------------------------------------
// Errors: the RIC's Runtime.* classes and its documents (src/Errors.js).

class RuntimeError extends Error {}
const runtimeErrors = {};
for (const name of [
  'ImportModuleError', 'HandlerNotFound', 'MalformedHandlerName', 'UserCodeSyntaxError',
  'MalformedStreamingHandler', 'InvalidStreamingOperation', 'UnhandledPromiseRejection', 'NodeJsExit',
  'CallbackHandlerDeprecated',
]) {
  runtimeErrors[name] = class extends RuntimeError {};
  runtimeErrors[name].prototype.name = `Runtime.${name}`;
}

function isErrorLike(e) {
  return e && typeof e.name === 'string' && typeof e.message === 'string' && typeof e.stack === 'string';
}

/** The document posted to the Runtime API: `{errorType, errorMessage, trace}` (key `trace`, as the RIC sends). */
function errorDocument(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    // A thrown string or object: `throw "Unauthorized"` gives errorType "string" (REST authorizers key on it).
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** The error as the RIC logs it: enumerable properties plus type, message, code and the stack as lines. */
function formattedError(error) {
  const expand = (_key, value) => {
    if (!(value instanceof Error)) return value;
    const shown = { errorType: value.name, errorMessage: value.message, code: value.code, ...value };
    if (typeof value.stack === 'string') shown.stack = value.stack.split('\n');
    return shown;
  };
  try {
    return '\t' + JSON.stringify(error, expand);
  } catch {
    return '\t' + JSON.stringify(errorDocument(error));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Logs: console.* as the RIC patches it (src/LogPatch.js): `<ISO time>\t<request id>\t<LEVEL>\t<message>`, newlines
// inside a message turned into carriage returns so one call stays one log event.

let currentRequestId; // `undefined` until the first invocation, as on AWS
const jsonLogs = env.AWS_LAMBDA_LOG_FORMAT === 'JSON';
const LEVELS = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };
const minimumLevel = jsonLogs ? LEVELS[(env.AWS_LAMBDA_LOG_LEVEL || 'TRACE').toUpperCase()] ?? 0 : 0;

function writeLog(level, args) {
  if (LEVELS[level] < minimumLevel) return;
  const timestamp = new Date().toISOString();
  let line;
  if (jsonLogs) {
    const record = { timestamp, level, requestId: currentRequestId, message: util.format(...args) };
    if (args.length === 1 && args[0] instanceof Error) {
      Object.assign(record, {
        message: args[0].message,
        errorType: args[0].name,
        errorMessage: args[0].message,
        stackTrace: String(args[0].stack || '').split('\n'),
      });
    }
    line = JSON.stringify(record);
  } else {
    line = `${timestamp}\t${currentRequestId}\t${level}\t${util.format(...args)}`.replace(/\n/g, '\r');
  }
  process.stdout.write(line + '\n');
}

for (const [method, level] of [
  ['trace', 'TRACE'], ['debug', 'DEBUG'], ['info', 'INFO'], ['log', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'],
  ['fatal', 'FATAL'],
]) {
  console[method] = (...args) => writeLog(level, args);
}

function logError(title, error) {
  if (jsonLogs) writeLog('ERROR', [error instanceof Error ? error : util.format(title, error)]);
  else writeLog('ERROR', [`${title} ${formattedError(error)}`]);
}

// ---------------------------------------------------------------------------------------------------------------
// The Runtime API client.

function call(method, route, { headers = {}, body, agent: via = agent } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: API_HOST, port: API_PORT, method, path: API_PREFIX + route, agent: via, headers },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function nextInvocation() {
  let answer;
  try {
    answer = await call('GET', '/invocation/next');
  } catch {
    process.exit(0); // the emulator stopped this environment
  }
  if (answer.status !== 200) process.exit(0); // "container error, runtime should exit promptly"
  return answer;
}

function postResult(requestId, body) {
  return call('POST', `/invocation/${requestId}/response`, {
    headers: { 'content-type': 'application/json' },
    body,
  });
}

/** `ownSocket`: not behind a pending `/next` or a streamed response on the shared connection (fatal errors). */
function postError(route, error, { ownSocket = false } = {}) {
  const document = errorDocument(error);
  const body = JSON.stringify(document).replace(/\x7F/g, '%7F');
  return call('POST', route, {
    headers: { 'content-type': 'application/json', 'lambda-runtime-function-error-type': document.errorType },
    body,
    agent: ownSocket ? false : agent,
  });
}

const postInvocationError = (requestId, error) => postError(`/invocation/${requestId}/error`, error);

// ---------------------------------------------------------------------------------------------------------------
// Loading the handler (src/UserFunction.js): `dir/module.export.path`, the module split at the first dot of the
// base name, then extensionless, .js as CommonJS, .js as ESM under "type": "module", .mjs, .cjs, TypeScript
// where this Node strips types, then Node's own resolution from the task root.

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');

function installGlobalAwsLambda() {
  if (['1', 'true'].includes(env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA)) return;
  globalThis.awslambda = {
    streamifyResponse(handler, options) {
      handler[HANDLER_STREAMING] = 'response';
      if (typeof options?.highWaterMark === 'number') handler[HANDLER_HIGHWATERMARK] = options.highWaterMark;
      return handler;
    },
    HttpResponseStream,
  };
}

/** Whether the nearest package.json above `folder` (stopping at node_modules) says "type": "module". */
function underTypeModule(folder) {
  if (folder.endsWith('/node_modules')) return false;
  const manifest = path.join(folder, 'package.json');
  if (fs.existsSync(manifest)) {
    try {
      return JSON.parse(fs.readFileSync(manifest, 'utf8')).type === 'module';
    } catch (e) {
      console.warn(`${manifest} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  const parent = path.dirname(folder);
  return parent !== folder && underTypeModule(parent);
}

const exists = (file) => fs.existsSync(file);
const requireIfExists = (file) => (exists(file) ? require(file) : undefined);
const importIfExists = async (file) => (exists(file) ? import(pathToFileURL(file).href) : undefined);

/** TypeScript runs only where this Node strips types (22.18+, or 22.6+ with --experimental-strip-types). */
function typeScriptModule(base) {
  const source = ['.ts', '.mts', '.cts'].map((ext) => base + ext).find(exists);
  if (!source) return undefined;
  if (process.features?.typescript || process.execArgv.includes('--experimental-strip-types')) return source;
  const error = new Error(
    `Cannot run ${path.relative(process.cwd(), source)}: Node.js ${process.version} does not run TypeScript. ` +
      'Build it to JavaScript (tsc, or a bundler plugin such as serverless-esbuild, whose .esbuild/.build output ' +
      'ftb-offline runs), or use Node.js 22.18 or later, which strips types.',
  );
  error.code = 'MODULE_NOT_FOUND';
  throw error;
}

async function loadModule(appRoot, moduleRoot, module) {
  const base = path.resolve(appRoot, moduleRoot, module);
  const extensionless = requireIfExists(base);
  if (extensionless) return extensionless;
  const esm = underTypeModule(path.dirname(base));
  const loaded =
    (!esm && requireIfExists(base + '.js')) ||
    (esm && (await importIfExists(base + '.js'))) ||
    (await importIfExists(base + '.mjs')) ||
    requireIfExists(base + '.cjs');
  if (loaded) return loaded;
  const typeScript = typeScriptModule(base);
  if (typeScript) return import(pathToFileURL(typeScript).href);
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, handlerString) {
  if (handlerString.includes('..')) {
    throw new runtimeErrors.MalformedHandlerName(
      `'${handlerString}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = path.basename(handlerString);
  const moduleRoot = handlerString.substring(0, handlerString.indexOf(base));
  const parts = /^([^.]*)\.(.*)$/.exec(base);
  if (!parts) throw new runtimeErrors.MalformedHandlerName('Bad handler');
  const [, module, exportPath] = parts;
  installGlobalAwsLambda();
  let userModule;
  try {
    userModule = await loadModule(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) throw new runtimeErrors.UserCodeSyntaxError(String(e));
    // Only CommonJS's MODULE_NOT_FOUND becomes ImportModuleError; ESM's ERR_MODULE_NOT_FOUND stays as it is.
    if (e?.code === 'MODULE_NOT_FOUND') throw new runtimeErrors.ImportModuleError(String(e));
    throw e;
  }
  const handler = exportPath.split('.').reduce((value, key) => value && value[key], userModule);
  if (!handler) throw new runtimeErrors.HandlerNotFound(`${handlerString} is undefined or not exported`);
  if (typeof handler !== 'function') throw new runtimeErrors.HandlerNotFound(`${handlerString} is not a function`);
  return handler;
}

// ---------------------------------------------------------------------------------------------------------------
// The context object (src/InvokeContext.js) and what an invocation carries.

function parseHeaderJson(value, what) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`Cannot parse ${what} as JSON`);
  }
}

function invocationContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms']);
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    tenantId: headers['lambda-runtime-aws-tenant-id'],
    clientContext: parseHeaderJson(headers['lambda-runtime-client-context'], 'client context'),
    identity: parseHeaderJson(headers['lambda-runtime-cognito-identity'], 'cognito identity'),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

function setTraceId(headers) {
  const traceId = headers['lambda-runtime-trace-id'];
  if (traceId) env._X_AMZN_TRACE_ID = traceId;
  else delete env._X_AMZN_TRACE_ID;
}

// ---------------------------------------------------------------------------------------------------------------
// One invocation, buffered (src/Runtime.js, src/CallbackContext.js): a promise settles it at once; a callback
// waits for the event loop to drain unless context.callbackWaitsForEmptyEventLoop is false.

let onLoopDrained = null;
process.on('beforeExit', () => {
  const drained = onLoopDrained;
  onLoopDrained = null;
  if (drained) drained();
});

/** Settles with `{result}` or `{error}` once the invocation is complete by the runtime's rules. */
function runBuffered(handler, event, context, isAsync) {
  return new Promise((settle) => {
    let reported = false;
    const report = (outcome) => {
      if (reported) {
        console.error('Invocation has already been reported as done. Cannot call complete more than once per invocation.');
        return;
      }
      reported = true;
      settle(outcome);
    };
    let finished = false;
    const once = (fn) => (...args) => {
      if (!finished) {
        finished = true;
        fn(...args);
      }
    };
    let waitForEmptyLoop = true;
    const done = (err, result) => {
      onLoopDrained = null;
      report(err !== undefined && err !== null ? { error: err } : { result });
    };
    const callback = once((err, result) => {
      onLoopDrained = null;
      if (err !== undefined && err !== null) report({ error: err });
      else if (!waitForEmptyLoop) report({ result });
      else onLoopDrained = () => setImmediate(() => report({ result }));
    });
    if (!callbacksRemoved) {
      Object.defineProperty(context, 'callbackWaitsForEmptyEventLoop', {
        get: () => waitForEmptyLoop,
        set: (value) => (waitForEmptyLoop = value),
        enumerable: true,
      });
      context.done = once(done);
      context.succeed = once((result) => done(null, result));
      context.fail = once((err) => done(err === undefined || err === null ? 'handled' : err, null));
    }
    // Nothing settled it when the loop drains: an async handler's promise never settled (an error); a
    // callback handler never called back (success, null).
    onLoopDrained = () => {
      reported = true;
      if (isAsync) {
        settle({
          error: new runtimeErrors.NodeJsExit(
            'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
          ),
        });
      } else settle({ result: null });
    };
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === 'function') {
        returned.then(context.succeed ?? ((r) => done(null, r)), context.fail ?? ((e) => done(e, null)));
      }
    } catch (err) {
      callback(err);
    }
  });
}

async function invokeBuffered(handler, isAsync, invocation, context) {
  const requestId = context.awsRequestId;
  const outcome = await runBuffered(handler, invocation.event, context, isAsync);
  if ('error' in outcome) {
    logError('Invoke Error', outcome.error);
    await postInvocationError(requestId, outcome.error);
    return;
  }
  let body;
  try {
    body = JSON.stringify(outcome.result === undefined ? null : outcome.result);
  } catch {
    // The RIC throws from its response path; the uncaught error fails the invocation and the process exits.
    const error = new Error('Unable to stringify response body');
    logError('Uncaught Exception', error);
    await postInvocationError(requestId, error);
    process.exit(129);
  }
  // A response over the size limit is refused (413) and may close the connection mid-upload: the emulator has
  // settled the invocation either way, and the next /next opens a new connection.
  await postResult(requestId, body).catch(() => {});
}

// ---------------------------------------------------------------------------------------------------------------
// Response streaming (src/ResponseStream.js, src/HttpResponseStream.js): the body goes out chunked with
// `Lambda-Runtime-Function-Response-Mode: streaming`; a failure after the start arrives in trailers.

const HTTP_INTEGRATION_RESPONSE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  /** Writes the HTTP response's metadata (status, headers, cookies) ahead of the body, as API Gateway expects. */
  static from(stream, prelude) {
    stream.setContentType(HTTP_INTEGRATION_RESPONSE);
    stream.write(JSON.stringify(prelude));
    stream.write(Buffer.alloc(8)); // eight NUL bytes separate the prelude from the body
    return stream;
  }
}

function responseStream(requestId, options) {
  const request = http.request({
    host: API_HOST,
    port: API_PORT,
    method: 'POST',
    path: `${API_PREFIX}/invocation/${requestId}/response`,
    agent,
    headers: {
      'content-type': 'application/octet-stream',
      'transfer-encoding': 'chunked',
      'lambda-runtime-function-response-mode': 'streaming',
      trailer: 'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    },
  });
  const answered = new Promise((resolve, reject) => {
    request.on('response', (response) => response.resume().on('end', resolve));
    request.on('error', reject);
  });
  const stream = new Writable({
    highWaterMark: options.highWaterMark,
    write(chunk, encoding, next) {
      request.write(chunk, encoding, next);
    },
    final(next) {
      request.end(next);
    },
  });
  stream.setContentType = (type) => {
    if (request.headersSent) throw new runtimeErrors.InvalidStreamingOperation('Cannot set content-type, too late.');
    request.setHeader('content-type', type);
  };
  const fail = (error) => {
    if (request.writableEnded) return; // the response went out whole; the error was logged
    const document = errorDocument(error);
    request.addTrailers({
      'Lambda-Runtime-Function-Error-Type': document.errorType,
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(document)).toString('base64'),
    });
    request.end();
  };
  return { stream, answered, fail };
}

async function invokeStreaming(handler, invocation, context) {
  const highWaterMark = handler[HANDLER_HIGHWATERMARK];
  const { stream, answered, fail } = responseStream(context.awsRequestId, { highWaterMark });
  try {
    const returned = handler(invocation.event, stream, context);
    if (!returned || typeof returned.then !== 'function') {
      throw new Error('Streaming does not support non-async handlers.');
    }
    if ((await returned) !== undefined) console.warn('Streaming handlers ignore return values.');
    if (!stream.writableEnded) throw new Error('Response stream is not finished.');
  } catch (error) {
    logError('Invoke Error', error);
    fail(error);
  }
  // The Runtime API answers once the whole body (and any error trailers) arrived.
  await answered.catch(() => {});
}

// ---------------------------------------------------------------------------------------------------------------
// The loop: init, then one invocation at a time.

// The last invocation's id: an uncaught error belongs to it, even after it answered (leftover work of a callback
// handler that did not wait for the event loop), as the RIC reports it. `undefined` during init.
let lastRequestId;

// Set once a fatal error is being reported: an error while reporting it ends nothing more.
let failing = false;

function onFatal(error, exitCode) {
  if (failing) return;
  failing = true;
  try {
    logError(lastRequestId ? 'Uncaught Exception' : 'Init Error', error);
  } catch {
    // The log is gone with the emulator; the error is still posted where it can be.
  }
  const route = lastRequestId ? `/invocation/${lastRequestId}/error` : '/init/error';
  postError(route, error, { ownSocket: true })
    .catch(() => {})
    .finally(() => process.exit(exitCode));
}
process.on('uncaughtException', (error) => onFatal(error, 129));
// The emulator reads this process's output. Once it is gone (killed outright), a write fails with EPIPE, and
// reporting that error would write again: the process ends instead of spinning with nobody to serve.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', () => process.exit(129));
}
process.on('unhandledRejection', (reason, promise) => {
  const error = new runtimeErrors.UnhandledPromiseRejection(reason?.toString());
  error.reason = reason;
  error.promise = promise;
  onFatal(error, 128);
});

/** A callback-style handler (not async, three parameters), which Node.js 24's runtime refuses at init. */
function checkSignature(handler, streaming) {
  const isAsync = handler.constructor?.name === 'AsyncFunction';
  if (callbacksRemoved && !streaming && !isAsync && handler.length >= 3) {
    throw new runtimeErrors.CallbackHandlerDeprecated(
      'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later.',
    );
  }
  return isAsync;
}

async function main() {
  const appRoot = env.LAMBDA_TASK_ROOT || process.cwd();
  let handler, isAsync, streaming;
  try {
    handler = await loadHandler(appRoot, env._HANDLER || '');
    streaming = handler[HANDLER_STREAMING] === 'response';
    isAsync = checkSignature(handler, streaming);
  } catch (error) {
    logError('Init Error', error);
    await postError('/init/error', error).catch(() => {});
    process.exit(129);
  }
  for (;;) {
    const answer = await nextInvocation();
    const requestId = answer.headers['lambda-runtime-aws-request-id'];
    currentRequestId = requestId;
    lastRequestId = requestId;
    setTraceId(answer.headers);
    let context, event;
    try {
      context = invocationContext(answer.headers);
      event = JSON.parse(answer.body);
    } catch (error) {
      logError('Invoke Error', error);
      await postInvocationError(requestId, error);
      continue;
    }
    if (streaming) await invokeStreaming(handler, { event }, context);
    else await invokeBuffered(handler, isAsync, { event }, context);
  }
}

main();
