// getTasks, GET /tasks: every task, newest first. An ES module, to show both module kinds run.

import { jsonResponse } from "./lib/http.js";
import { listTasks } from "./lib/store.js";

export const handler = async (event) => jsonResponse(event, 200, await listTasks());
