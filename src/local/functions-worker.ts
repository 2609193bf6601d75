/**
 * The local Lambda runtime's worker thread: the gateway's functions (the API, the state machine's tasks, the EMR
 * step-event target) run here, apart from the emulators, as Lambda runs them apart from API Gateway, Step Functions
 * and DynamoDB. They reach the emulators through the AWS port, with their own SDK clients, and nothing else: the
 * events and results cross as structured clones (JSON, as Lambda's do), and an error as its name and message (what
 * Step Functions sees of a Lambda error: the ASL's Retry and Catch match the name). Started by functions.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { GatewayEnv } from '../config/env';
import { loadConfigFile } from '../config-file/load';
import { destroyClients } from '../adapters/clients';
import { createGateway } from '../container';
import { apiDeps, createApiHandler } from '../http/api';
import { openApiDocument } from '../http/openapi';
import { version } from '../../package.json';
import { stepEventRoute, workflowRoutes, type TaskName } from '../jobs/task-routes';
import type { FunctionCall, FunctionReply, FunctionsWorkerData } from './functions';

const port = parentPort;
if (!port) throw new Error('functions-worker.ts runs as a worker thread (functions.ts starts it)');
const { env, credentials } = workerData as FunctionsWorkerData;

// A write that leaves a delivery due is told to the stack's notifier, as the jobs table's stream starts the notify function in AWS.
const gateway = createGateway(env satisfies GatewayEnv, { credentials, loaded: loadConfigFile(env.configFile), onDeliveriesDue: (jobId) => port.postMessage({ due: jobId }) });
// The local stack builds the OpenAPI document from the schemas (a deployed API reads the copy packaging wrote).
const api = createApiHandler(apiDeps(() => gateway.service(), () => gateway.sessions(), () => openApiDocument(version), () => gateway.jobLogs()));
const tasks = workflowRoutes(gateway.tasks);
const stepEvent = stepEventRoute(gateway.tasks);

/** A function's answer; async, so that one that throws at once (an event its schema refuses) rejects like the rest. */
async function run(call: FunctionCall): Promise<unknown> {
  switch (call.fn) {
    case 'api':
      return api(call.event as Parameters<typeof api>[0], {} as Parameters<typeof api>[1]);
    case 'stepEvent':
      return stepEvent(call.event);
    default:
      return tasks[call.fn satisfies TaskName](call.event);
  }
}

port.on('message', (message: FunctionCall | { stop: true }) => {
  if ('stop' in message) {
    // No connection to the AWS port outlives the stack (another stack may take the port next).
    destroyClients(gateway.clients);
    port.postMessage({ stopped: true });
    return;
  }
  run(message).then(
    (result) => port.postMessage({ id: message.id, ok: true, result } satisfies FunctionReply),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({ id: message.id, ok: false, error: { name: e.name, message: e.message } } satisfies FunctionReply);
    },
  );
});
port.postMessage({ ready: true });
