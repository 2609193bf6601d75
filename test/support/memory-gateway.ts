/**
 * The job domain wired to the in-memory fakes: the real config and policy engine (the same YAML as
 * startGateway's), StepTasks and JobService, a simulated clock, EMR at the port and a recording workflow
 * starter. No SDK, no dynalite, no state machine: the tests drive the tasks as the ASL would.
 */
import { AuditDigester, DigestVerifier } from '../../src/audit/digester';
import { JobService } from '../../src/jobs/service';
import { StepTasks, type TaskResult } from '../../src/jobs/step-tasks';
import { DEFAULT_POLLING, type PollingPolicy, type WorkflowInput } from '../../src/jobs/workflow-input';
import type { GatewayConfig, LoadedConfig } from '../../src/config/validate';
import { GATEWAY_CONFIG_YAML, loadTestConfig, SimClock } from './config';
import { FakeEmrSteps, InMemoryAuditLog, InMemoryJobRepository, RecordingCallbacks, RecordingStarter } from './fakes';
import { InMemoryDigestStore, TestDigestSigner } from './digests';
import { TestSealer } from './sealer';

export interface MemoryGateway {
  config: GatewayConfig;
  clock: SimClock;
  jobs: InMemoryJobRepository;
  audit: InMemoryAuditLog;
  /** The audit key the trail is sealed with (and checked against). */
  sealer: TestSealer;
  digestStore: InMemoryDigestStore;
  digestSigner: TestDigestSigner;
  /** Writes the next digest of the chain heads, on the simulated clock. */
  digester: AuditDigester;
  emr: FakeEmrSteps;
  starter: RecordingStarter;
  /** The executions' waits for the step's end, as Step Functions' callback API takes them. */
  callbacks: RecordingCallbacks;
  tasks: StepTasks;
  service: JobService;
  polling: PollingPolicy;
  /** The workflow input the service starts the state machine with. */
  input(jobId: string): WorkflowInput;
  /**
   * Runs the state machine's loop for a job as it goes when no event ever comes: SubmitStep, then each wait
   * ends without its event (the clock moves by the backoff asked for) and PollStep looks, until done. Errors leave as they are (the ASL's Retry and Catch are the test's to play).
   */
  run(jobId: string, maxPolls?: number): Promise<{ result: TaskResult; waits: number[] }>;
}

/** Parsed once per text (compiling the policies is most of a gateway's set-up time); nothing here changes them. */
const loaded = new Map<string, LoadedConfig>();

export function memoryGateway(options: { polling?: PollingPolicy; configYaml?: string } = {}): MemoryGateway {
  const text = options.configYaml ?? GATEWAY_CONFIG_YAML;
  if (!loaded.has(text)) loaded.set(text, loadTestConfig(text));
  const { config, engine } = loaded.get(text)!;
  const polling = options.polling ?? DEFAULT_POLLING;
  const clock = new SimClock();
  const jobs = new InMemoryJobRepository(clock.now);
  const sealer = new TestSealer();
  const audit = new InMemoryAuditLog(clock.now, sealer);
  const emr = new FakeEmrSteps(clock.now, config.clusters.filter((c) => c.propagateSourceIdentity).map((c) => c.id));
  const callbacks = new RecordingCallbacks();
  const tasks = new StepTasks({ jobs, audit, emr, callbacks, sealer, config, now: clock.now });
  const starter = new RecordingStarter();
  const digestStore = new InMemoryDigestStore();
  const digestSigner = new TestDigestSigner();
  const digester = new AuditDigester({ heads: jobs, store: digestStore, signer: digestSigner, now: clock.now });
  const service = new JobService({ config, engine, jobs, audit, sealer, digests: new DigestVerifier(digestStore, digestSigner), workflow: starter, tasks, polling, now: clock.now });
  const input = (jobId: string): WorkflowInput => ({ jobId, polling });
  return {
    config, clock, jobs, audit, sealer, emr, starter, callbacks, tasks, service, polling, input, digestStore, digestSigner, digester,
    async run(jobId, maxPolls = 100) {
      let result = await tasks.submit(input(jobId));
      const waits: number[] = [];
      for (let i = 0; i < maxPolls && !result.done; i++) {
        waits.push(result.waitSeconds);
        clock.advance(result.waitSeconds);
        result = await tasks.poll({ ...input(jobId), poll: result });
      }
      return { result, waits };
    },
  };
}
