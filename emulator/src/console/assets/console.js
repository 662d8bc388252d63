// The ftb-offline console's page: reads /api views, sends actions with this start's token, and follows
// /api/live (server-sent events) to stay current without reloading. Plain DOM, no framework, no build step.
"use strict";

const token = document.querySelector('meta[name="console-token"]').content;
const state = {
  overview: null, selectedFunction: null, selectedQueue: null, selectedTable: null, tables: [], nextKey: null,
  history: {}, storyId: null,
  // Invocations per function seen live since the page opened: { key: { all, errors } }.
  counted: {},
};
const MAX_ROWS = 200;
const CHART_POINTS = 120;

const $ = (selector) => document.querySelector(selector);
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

async function get(path) {
  const response = await fetch(path);
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.error?.type}: ${body.error?.message}`);
  return body;
}

// The views reload on live events, so two answers for one view can arrive in either order: only the answer to
// the view's newest request is shown; an older one resolves to null.
const newestRequest = {};
async function getFor(view, path) {
  const ticket = (newestRequest[view] = (newestRequest[view] ?? 0) + 1);
  const body = await get(path);
  return ticket === newestRequest[view] ? body : null;
}

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-console-token": token },
    body: typeof body === "string" ? body : JSON.stringify(body ?? {}),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${answer.error?.type}: ${answer.error?.message}`);
  return answer;
}

const time = (ms) => new Date(ms).toLocaleTimeString([], { hour12: false }) + "." + String(ms % 1000).padStart(3, "0");
const ms = (value) => (value === null || value === undefined ? "" : `${Number(value).toFixed(1)} ms`);

function describeTrigger(trigger) {
  switch (trigger.type) {
    case "http": return `${trigger.api} ${trigger.method} ${trigger.path}`;
    case "webSocket": return `WebSocket ${trigger.route}`;
    case "queue": return `queue ${trigger.queue} (${trigger.messageIds.length})`;
    case "schedule": return `schedule ${trigger.rule}`;
    case "stream": return `stream of ${trigger.table}`;
    case "topic": return `topic ${trigger.topic.split(":").pop()}`;
    case "bucket": return `bucket ${trigger.bucket}`;
    case "authorizer": return `authorizer ${trigger.authorizer}`;
    case "console": return "console";
    default: return "Invoke API";
  }
}

// ---- views ----

function showView(name) {
  document.querySelectorAll("nav button").forEach((b) => b.classList.toggle("active", b.dataset.view === name));
  document.querySelectorAll(".view").forEach((v) => v.classList.toggle("active", v.id === `view-${name}`));
  if (name === "tables") loadTables();
  if (name === "queues" && state.selectedQueue) loadMessages();
}

async function loadOverview() {
  const overview = await getFor("overview", "/api/overview");
  if (!overview) return;
  state.overview = overview;
  $("#service").textContent = `${overview.service} · ${overview.stage} · ${overview.region}`;
  renderFunctions(overview.functions);
  renderRoutes(overview.routes);
  renderConnections(overview.connections);
  renderQueues(overview.queues);
  renderTopics(overview.topics);
}

function renderFunctions(functions) {
  const body = $("#functions tbody");
  body.replaceChildren(...functions.map((f) => el("tr", { "data-function": f.key, class: f.key === state.selectedFunction ? "selected" : null, onclick: () => selectFunction(f.key) },
    el("td", { text: f.key }), el("td", { text: f.runtime }), el("td", { class: "mono", text: f.handler }),
    el("td", { text: f.timeoutSeconds ? `${f.timeoutSeconds} s` : "" }), el("td", { text: `${f.memoryMb} MB` }),
    el("td", { class: "warm", text: f.warm }), el("td", { class: "busy", text: f.busy }),
    el("td", { class: "invocations", text: countText(f.key), "data-count": state.counted[f.key]?.all ?? 0 }), el("td", { text: f.triggers.join(", ") }))));
}

function countText(key) {
  const counted = state.counted[key];
  if (!counted) return "0";
  return counted.errors ? `${counted.all} (${counted.errors} failed)` : `${counted.all}`;
}

function countInvocation(entry) {
  const counted = (state.counted[entry.function] ??= { all: 0, errors: 0 });
  counted.all += 1;
  if (entry.status === "error") counted.errors += 1;
  const row = document.querySelector(`#functions tr[data-function="${CSS.escape(entry.function)}"]`);
  if (row) {
    const cell = row.querySelector(".invocations");
    cell.textContent = countText(entry.function);
    cell.dataset.count = counted.all;
  }
}

function selectFunction(key) {
  state.selectedFunction = key;
  document.querySelectorAll("#functions tbody tr").forEach((row) => row.classList.toggle("selected", row.dataset.function === key));
  $("#invoke-panel").hidden = false;
  $("#invoke-function").textContent = key;
  $("#invoke-result").textContent = "";
  loadInvocations();
}

async function loadInvocations() {
  const only = $("#only-selected").checked && state.selectedFunction;
  const query = only ? `?function=${encodeURIComponent(state.selectedFunction)}&limit=${MAX_ROWS}` : `?limit=${MAX_ROWS}`;
  const answer = await getFor("invocations", `/api/invocations${query}`);
  if (answer) $("#invocations tbody").replaceChildren(...answer.entries.map(invocationRow));
}

// "success", "success, 1 item failed" (a batch's partial failure) or "<errorType>: <message>", and its class.
function outcome(entry) {
  if (entry.status === "error") return { cls: "status-error", text: `${entry.errorType}: ${entry.errorMessage ?? ""}` };
  const failed = entry.batchItemFailures;
  if (failed) return { cls: "status-partial", text: `success, ${failed} item${failed > 1 ? "s" : ""} failed` };
  return { cls: "status-success", text: "success" };
}

function invocationRow(entry) {
  const result = outcome(entry);
  const rowClass = entry.status === "error" ? "invocation error" : entry.batchItemFailures ? "invocation partial" : "invocation";
  return el("tr", { class: rowClass, "data-seq": entry.seq, "data-function": entry.function, "data-status": entry.status, onclick: () => showEntry(entry.seq) },
    el("td", { text: time(entry.startedMs) }), el("td", { text: entry.function }), el("td", { text: describeTrigger(entry.trigger) }),
    el("td", { class: result.cls, text: result.text }),
    el("td", { text: ms(entry.durationMs) }), el("td", { text: `${entry.billedDurationMs} ms` }),
    el("td", { text: entry.maxMemoryUsedMb ? `${entry.maxMemoryUsedMb} MB` : "-" }), el("td", { text: ms(entry.initDurationMs) }),
    el("td", {}, storyLink(entry.requestId)));
}

function storyLink(id) {
  return el("a", { class: "id mono", text: id, onclick: (event) => { event.stopPropagation(); followStory(id); } });
}

async function showEntry(seq) {
  const { entry } = await get(`/api/entries/${seq}`);
  const detail = $("#detail");
  detail.hidden = false;
  detail.replaceChildren(
    el("h3", { text: `${entry.function} · ${entry.requestId}` }),
    el("h4", { text: "Event" }), el("pre", { class: "payload", text: pretty(entry.payload) }),
    el("h4", { text: entry.status === "error" ? "Error" : "Response" }), el("pre", { class: "response", text: pretty(entry.response) }),
    el("h4", { text: "Log" }), el("pre", { class: "log", text: entry.log }));
}

function pretty(text) {
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

async function invoke() {
  const result = $("#invoke-result");
  result.textContent = "invoking…";
  try {
    const answer = await post(`/api/functions/${encodeURIComponent(state.selectedFunction)}/invoke`, $("#payload").value);
    result.className = `status-${answer.status}`;
    result.textContent = `${answer.status}${answer.errorType ? ` (${answer.errorType})` : ""} · ${answer.requestId}\n\n${pretty(answer.result)}\n\n${answer.log}`;
  } catch (error) {
    result.className = "status-error";
    result.textContent = error.message;
  }
}

async function sampleEvent() {
  $("#payload").value = JSON.stringify(await get(`/api/functions/${encodeURIComponent(state.selectedFunction)}/sample`), null, 2);
}

async function lastEvent() {
  const { entries } = await get(`/api/invocations?function=${encodeURIComponent(state.selectedFunction)}&limit=1`);
  if (!entries.length) { $("#payload").value = "{}"; return; }
  const { entry } = await get(`/api/entries/${entries[0].seq}`);
  $("#payload").value = pretty(entry.payload);
}

function renderRoutes(routes) {
  $("#routes tbody").replaceChildren(...routes.map((r) => el("tr", {},
    el("td", { text: r.api }), el("td", { class: "mono", text: r.method }), el("td", { class: "mono", text: r.url }),
    el("td", { text: r.function }), el("td", { text: r.guard }))));
}

function renderConnections(connections) {
  const ids = connections.map((c) => c.id).join(" ");
  const body = $("#connections tbody");
  if (body.dataset.ids === ids) return; // a message being typed in a row stays
  body.dataset.ids = ids;
  body.replaceChildren(...connections.map((c) => {
    const input = el("input", { placeholder: "message" });
    return el("tr", { "data-connection": c.id, "data-connected": Date.parse(c.connectedAt) },
      el("td", { class: "mono", text: c.id }), el("td", { class: "age", text: `${c.ageSeconds} s` }),
      el("td", { text: `${c.sourceIp} ${c.userAgent ?? ""}` }), el("td", { class: "mono", text: c.authorizer ? JSON.stringify(c.authorizer) : "" }),
      el("td", {}, input, el("button", { text: "Post", onclick: () => post(`/api/connections/${encodeURIComponent(c.id)}/post`, input.value).then(() => { input.value = ""; }) })),
      el("td", {}, el("button", { text: "Disconnect", onclick: () => post(`/api/connections/${encodeURIComponent(c.id)}/disconnect`).then(loadOverview) })));
  }));
}

function renderQueues(queues) {
  $("#queues tbody").replaceChildren(...queues.map((q) => el("tr", { "data-queue": q.name, class: q.name === state.selectedQueue ? "selected" : null, onclick: () => selectQueue(q.name) },
    el("td", { text: q.name }), el("td", { class: "visible-count", text: q.visible }), el("td", { class: "inflight-count", text: q.inFlight }),
    el("td", { class: "delayed-count", text: q.delayed }), el("td", { text: q.deadLetterSources.join(", ") }),
    el("td", {}, ...q.mappings.map((m) => mappingSwitch(q, m))))));
  if (state.selectedQueue) {
    const queue = queues.find((q) => q.name === state.selectedQueue);
    if (queue) {
      $("#queue-attributes").textContent = JSON.stringify(queue.attributes, null, 2);
      $("#redrive").hidden = queue.deadLetterSources.length === 0;
    }
  }
}

function mappingSwitch(queue, mapping) {
  if (mapping.configuredOff) {
    return el("span", { class: "mapping", "data-mapping": mapping.function, "data-enabled": "false" },
      `${mapping.function} (batch ${mapping.batchSize}, enabled: false in serverless.yml) `);
  }
  const action = mapping.enabled ? "disable" : "enable";
  const flip = (event) => {
    event.stopPropagation();
    post(`/api/mappings/${encodeURIComponent(mapping.function)}/${encodeURIComponent(queue.name)}/${action}`).then(loadOverview);
  };
  return el("span", { class: "mapping", "data-mapping": mapping.function, "data-enabled": String(mapping.enabled) },
    `${mapping.function} (batch ${mapping.batchSize}, ${mapping.enabled ? "enabled" : "disabled"}) `,
    el("button", { class: "switch", text: action === "disable" ? "Disable" : "Enable", onclick: flip }));
}

function selectQueue(name) {
  state.selectedQueue = name;
  $("#queue-panel").hidden = false;
  $("#queue-name").textContent = name;
  renderQueues(state.overview.queues);
  drawChart();
  loadMessages();
  loadMoves();
}

async function loadMessages() {
  if (!state.selectedQueue) return;
  const answer = await getFor("messages", `/api/queues/${encodeURIComponent(state.selectedQueue)}/messages`);
  if (!answer) return;
  $("#messages tbody").replaceChildren(...answer.messages.map((m) => el("tr", { class: "message", "data-message": m.messageId, "data-state": m.state },
    el("td", {}, storyLink(m.messageId)), el("td", { text: m.state }), el("td", { text: m.receiveCount }),
    el("td", { text: time(m.sentMs) }), el("td", { class: "mono", text: m.body }))));
}

async function loadMoves() {
  if (!state.selectedQueue) return;
  const answer = await getFor("moves", `/api/queues/${encodeURIComponent(state.selectedQueue)}/moves`);
  if (!answer) return;
  const { tasks } = answer;
  $("#moves").textContent = tasks.length ? `Redrive: ${tasks[0].status}, ${tasks[0].moved} of ${tasks[0].toMove} moved` : "";
  if (tasks.length && tasks[0].status === "RUNNING") setTimeout(loadMoves, 500);
}

function queueAction(action, body) {
  return post(`/api/queues/${encodeURIComponent(state.selectedQueue)}/${action}`, body)
    .then(() => { loadMessages(); loadMoves(); })
    .catch((error) => { $("#moves").textContent = error.message; });
}

function recordCounts(counts) {
  for (const [name, c] of Object.entries(counts.queues)) {
    const history = (state.history[name] ??= []);
    history.push(c);
    if (history.length > CHART_POINTS) history.shift();
    const row = document.querySelector(`#queues tr[data-queue="${CSS.escape(name)}"]`);
    if (row) {
      row.querySelector(".visible-count").textContent = c.visible;
      row.querySelector(".inflight-count").textContent = c.inFlight;
      row.querySelector(".delayed-count").textContent = c.delayed;
    }
  }
  for (const [key, f] of Object.entries(counts.functions)) {
    const row = document.querySelector(`#functions tr[data-function="${CSS.escape(key)}"]`);
    if (row) { row.querySelector(".warm").textContent = f.warm; row.querySelector(".busy").textContent = f.busy; }
  }
  for (const row of document.querySelectorAll("#connections tr[data-connection]")) {
    row.querySelector(".age").textContent = `${Math.round((Date.now() - Number(row.dataset.connected)) / 1000)} s`;
  }
  drawChart();
}

function drawChart() {
  const history = state.history[state.selectedQueue] ?? [];
  const top = Math.max(1, ...history.map((c) => Math.max(c.visible, c.inFlight, c.delayed)));
  const line = (field) => history.map((c, i) => `${(i / (CHART_POINTS - 1)) * 600},${115 - (c[field] / top) * 105}`).join(" ");
  const svg = $("#chart");
  svg.replaceChildren();
  for (const [field, cls] of [["visible", "visible"], ["inFlight", "inflight"], ["delayed", "delayed"]]) {
    const polyline = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    polyline.setAttribute("class", cls);
    polyline.setAttribute("points", line(field));
    svg.append(polyline);
  }
}

async function loadTables() {
  try {
    const answer = await getFor("tables", "/api/tables");
    if (!answer) return;
    const { tables } = answer;
    state.tables = tables;
    $("#tables tbody").replaceChildren(...tables.map((t) => el("tr", { "data-table": t.name, onclick: () => selectTable(t.name) },
      el("td", { text: t.name }), el("td", { class: "mono", text: (t.keySchema ?? []).map((k) => `${k.AttributeName} (${k.KeyType})`).join(", ") }),
      el("td", { class: "item-count", text: t.itemCount ?? "?" }))));
  } catch (error) {
    $("#tables tbody").replaceChildren(el("tr", {}, el("td", { colspan: 3, text: error.message })));
  }
}

function selectTable(name) {
  state.selectedTable = name;
  $("#table-panel").hidden = false;
  $("#table-name").textContent = name;
  browse(null);
}

async function browse(start) {
  const key = $("#item-key").value.trim();
  let query = `?limit=25&key=${encodeURIComponent(key)}`;
  if (start) query += `&start=${encodeURIComponent(JSON.stringify(start))}`;
  try {
    const { items, lastEvaluatedKey } = await get(`/api/tables/${encodeURIComponent(state.selectedTable)}/items${query}`);
    state.nextKey = lastEvaluatedKey;
    $("#next-page").hidden = !lastEvaluatedKey;
    $("#items").replaceChildren(...(items ?? []).map(itemRow));
    $("#table-message").textContent = `${(items ?? []).length} items`;
  } catch (error) {
    $("#table-message").textContent = error.message;
  }
}

function itemRow(item) {
  const table = state.selectedTable;
  const keyOf = () => {
    const schema = state.tables.find((t) => t.name === table)?.keySchema ?? [];
    return Object.fromEntries(schema.map((k) => [k.AttributeName, item[k.AttributeName]]));
  };
  return el("div", { class: "item" }, el("pre", { text: JSON.stringify(item, null, 2) }),
    el("button", { text: "Delete", onclick: () => post(`/api/tables/${encodeURIComponent(table)}/delete`, { Key: keyOf() }).then(() => browse(null)).catch((e) => { $("#table-message").textContent = e.message; }) }));
}

async function putItem() {
  try {
    const item = JSON.parse($("#put-item").value);
    await post(`/api/tables/${encodeURIComponent(state.selectedTable)}/put`, { Item: item });
    $("#table-message").textContent = "put";
    browse(null);
  } catch (error) {
    $("#table-message").textContent = error.message;
  }
}

function renderTopics(topics) {
  $("#topics tbody").replaceChildren(...topics.map((t) => el("tr", {},
    el("td", { class: "mono", text: t.arn }),
    el("td", { text: t.subscriptions.map((s) => `${s.protocol}: ${s.endpoint.split(":").pop()}${s.raw ? " (raw)" : ""}`).join(", ") }))));
}

// ---- a task's story ----

function followStory(id) {
  $("#story-id").value = id;
  showView("story");
  loadStory();
}

const MIN_STORY_ID = 6;

async function loadStory() {
  const id = $("#story-id").value.trim();
  state.storyId = id.length >= MIN_STORY_ID ? id : null;
  if (!state.storyId) {
    $("#story").replaceChildren(el("li", { text: `an id of at least ${MIN_STORY_ID} characters` }));
    return;
  }
  const answer = await getFor("story", `/api/story?id=${encodeURIComponent(id)}`);
  if (answer) $("#story").replaceChildren(...answer.entries.map(storyStep));
}

function storyStep(entry) {
  const began = entry.kind === "invocation" ? entry.startedMs : entry.atMs;
  const step = (kind, text, error) => el("li", { class: error ? "step error" : "step", "data-kind": kind, "data-seq": entry.seq },
    el("span", { class: "time", text: time(began) }), el("span", { class: "kind", text: kind }), text);
  switch (entry.kind) {
    case "invocation": {
      const result = outcome(entry);
      const text = el("span", {}, `${entry.function} ← ${describeTrigger(entry.trigger)}: `,
        el("span", { class: result.cls, text: result.text }), ` (${ms(entry.durationMs)}) `, storyLink(entry.requestId));
      const li = step("invocation", text, result.cls !== "status-success");
      li.append(el("pre", { class: "log", text: entry.log }));
      return li;
    }
    case "messageSent": return step("sent", el("span", {}, `to ${entry.queue}: `, storyLink(entry.messageId), ` ${entry.body}`));
    case "deadLettered": return step("dead-lettered", el("span", {}, `${entry.queue} → ${entry.deadLetterQueue} after ${entry.receives} receives: `, storyLink(entry.messageId)), true);
    case "messageMoved": return step("redriven", el("span", {}, `${entry.from} → ${entry.to}: ${entry.messageId} → `, storyLink(entry.newMessageId)));
    case "pushed": return step("pushed", el("span", {}, `to WebSocket ${entry.connectionId}: ${entry.data}`));
    default: return step(entry.kind, el("span", { text: entry.connectionId ?? "" }));
  }
}

// ---- live ----

let storyTimer = null;
let messagesTimer = null;
let events = 0;
let missed = 0;
function countEvent() {
  events += 1;
  const badge = $("#live");
  badge.dataset.events = events;
  badge.textContent = `live · ${events} events${missed ? ` (${missed} missed)` : ""}`;
}

function connectLive() {
  const live = new EventSource("/api/live");
  live.addEventListener("open", () => { $("#live").textContent = `live · ${events} events`; $("#live").classList.add("on"); });
  live.addEventListener("error", () => { $("#live").textContent = "reconnecting…"; $("#live").classList.remove("on"); });
  live.addEventListener("counts", (event) => recordCounts(JSON.parse(event.data)));
  // The page fell behind the feed: some entries were not sent to it (the journal still has them).
  live.addEventListener("lagged", (event) => { missed += JSON.parse(event.data).missed; });
  live.addEventListener("entry", (event) => {
    const entry = JSON.parse(event.data);
    countEvent();
    if (entry.kind === "invocation") {
      countInvocation(entry);
      const only = $("#only-selected").checked && state.selectedFunction;
      if (!only || entry.function === state.selectedFunction) {
        const body = $("#invocations tbody");
        body.prepend(invocationRow(entry));
        while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
      }
    }
    if (entry.kind === "connected" || entry.kind === "disconnected") loadOverview();
    if (state.storyId && !storyTimer) storyTimer = setTimeout(() => { storyTimer = null; loadStory(); }, 300);
    if (state.selectedQueue && entry.kind !== "invocation" && !messagesTimer) {
      messagesTimer = setTimeout(() => { messagesTimer = null; loadMessages(); }, 300);
    }
  });
}

document.querySelectorAll("nav button").forEach((button) => button.addEventListener("click", () => showView(button.dataset.view)));
$("#invoke").addEventListener("click", invoke);
$("#last-event").addEventListener("click", lastEvent);
$("#sample-event").addEventListener("click", sampleEvent);
$("#only-selected").addEventListener("change", loadInvocations);
$("#send").addEventListener("click", () => queueAction("send", { body: $("#send-body").value }));
$("#purge").addEventListener("click", () => queueAction("purge"));
$("#redrive").addEventListener("click", () => queueAction("redrive"));
$("#browse").addEventListener("click", () => browse(null));
$("#next-page").addEventListener("click", () => browse(state.nextKey));
$("#put").addEventListener("click", putItem);
$("#story-go").addEventListener("click", loadStory);
$("#story-id").addEventListener("keydown", (event) => { if (event.key === "Enter") loadStory(); });

loadOverview().then(loadInvocations).then(() => document.body.classList.add("ready"));
connectLive();
setInterval(loadOverview, 5000);
