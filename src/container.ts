/**
 * The composition root: SDK clients (built once per cold start from the environment, in adapters/), the
 * adapters over them, and the domain objects over the adapters. The parts are built in src/composition/, one
 * module each with only its own adapters, so that each Lambda function's bundle (its handler imports the
 * `lambda*` accessor of what it uses from there) holds only its parts and requires only their SDK packages.
 * Here, all of them: the gateway the local stack builds (createGateway), and the Lambda container's whole
 * gateway that tests playing a deployed function read (gateway).
 */
import { awsClients, type AwsClients } from './adapters/clients';
import type { AuditDigester, DigestVerifier } from './audit/digester';
import type { AuditSealer } from './audit/ports';
import { createCore, lambdaCore, type Core, type GatewayOptions } from './composition/core';
import { createDigester, createDigests, lambdaDigests, type Digests } from './composition/digests';
import { createJobLogs } from './composition/job-logs';
import { createNotifier } from './composition/notifier';
import { createReconciler } from './composition/reconciler';
import { createService, policyEngine } from './composition/service';
import { createSessions } from './composition/sessions';
import { createTasks, lambdaSfn, lambdaTasks } from './composition/tasks';
import { createTriggers } from './composition/triggers';
import { loadEnv, type GatewayEnv } from './config/env';
import type { LoadedConfig } from './config/validate';
import type { AuditLog, JobRepository } from './jobs/ports';
import type { Reconciler } from './jobs/reconciler';
import type { Notifier } from './notifications/notifier';
import type { JobLogsService } from './jobs/job-logs';
import type { JobService } from './jobs/service';
import type { SessionService } from './sessions/service';
import type { StepTasks } from './jobs/step-tasks';
import type { TriggerService } from './triggers/service';

export type { GatewayOptions } from './composition/core';

export interface Gateway {
  env: GatewayEnv;
  clients: AwsClients;
  /** The configuration and its policy engine. */
  loaded: LoadedConfig;
  jobs: JobRepository;
  audit: AuditLog;
  /** The audit key (KMS): seals every event, verifies trails read back. */
  sealer: AuditSealer;
  tasks: StepTasks;
  /** The digests of the chain heads: written by the digester, read by every audit read. */
  digests: DigestVerifier;
  digester(): AuditDigester;
  /** Needs STATE_MACHINE_ARN: only the API, trigger and reconcile functions have it. */
  service(): JobService;
  /** The reconciler of jobs no execution follows (needs STATE_MACHINE_ARN). */
  reconciler(): Reconciler;
  /** The API's reads of step logs and Spark UI links (GET /jobs/{id}/logs, /ui). */
  jobLogs(): JobLogsService;
  /** Interactive sessions (POST /sessions; needs SESSION_ROLE_ARN where a cluster propagates source identity). */
  sessions(): SessionService;
  triggers(): TriggerService;
  /** Sends the notifications' deliveries due (the notify function's work); `apiUrl` for the messages' links, where the environment has none. */
  notifier(apiUrl?: string): Notifier;
}

function assemble(core: Core, clients: AwsClients, tasks: StepTasks, digests: Digests, local = false): Gateway {
  let notifier: Notifier | undefined;
  let service: JobService | undefined;
  let sessions: SessionService | undefined;
  let jobLogs: JobLogsService | undefined;
  let triggers: TriggerService | undefined;
  return {
    env: core.env,
    clients,
    loaded: { config: core.config, engine: policyEngine(core) },
    jobs: core.jobs,
    audit: core.audit,
    sealer: core.sealer,
    tasks,
    digests: digests.verifier,
    digester: () => createDigester(core, digests),
    reconciler: () => createReconciler(core, tasks, clients.sfn),
    service: () => (service ??= createService(core, tasks, digests.verifier, clients.sfn)),
    sessions: () => (sessions ??= createSessions(core, clients, digests.verifier)),
    jobLogs() {
      jobLogs ??= createJobLogs(core, this.service(), clients);
      return jobLogs;
    },
    triggers() {
      triggers ??= createTriggers(core, this.service(), core.audit);
      return triggers;
    },
    // The local stack's webhooks' secrets come from its configuration's local.secrets.
    notifier: (apiUrl) => (notifier ??= createNotifier(core, { local, ...(apiUrl ? { apiUrl } : {}) })),
  };
}

export function createGateway(env: GatewayEnv = loadEnv(), options: GatewayOptions = {}): Gateway {
  let clients: AwsClients | undefined;
  const core = createCore(env, options, (target) => (clients = awsClients(target)));
  const all = clients!;
  return assemble(core, all, createTasks(core, all), createDigests(core, all.s3), true);
}

let whole: Gateway | undefined;

/**
 * The gateway of this Lambda container, all of it, over the parts the handlers use (src/composition/'s accessors),
 * so that what a test reads through it is what the handlers see.
 */
export function gateway(): Gateway {
  if (!whole) {
    const core = lambdaCore();
    const clients: AwsClients = { ...awsClients(core.target), kms: core.kms, sfn: lambdaSfn() };
    whole = assemble(core, clients, lambdaTasks(), lambdaDigests());
  }
  return whole;
}
