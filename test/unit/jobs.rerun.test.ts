/** What a rerun submits (src/jobs/rerun.ts): the job's request, or its template again with checked overrides. */
import { ConflictError, IntegrityError, ValidationError } from '../../src/errors';
import { rerunSource, templateRun } from '../../src/jobs/rerun';
import type { Job } from '../../src/jobs/model';

const REQUEST = { clusterId: 'j-1', executionRoleArn: 'arn:aws:iam::123456789012:role/R', name: 'n', step: { type: 'command', args: ['true'] } } as unknown as Job['request'];
const TEMPLATES = {
  report: { clusterId: 'j-1', executionRoleArn: 'arn:aws:iam::123456789012:role/R', name: 'report ${date}', step: { type: 'command', args: ['bash', '-c', 'echo ${date} ${label}'] } },
  compact: { clusterId: 'j-1', executionRoleArn: 'arn:aws:iam::123456789012:role/R', name: 'compact ${day}', parameters: { day: { type: 'date' } }, step: { type: 'command', args: ['bash', '-c', 'echo ${day}'] } },
};
const job = (template?: unknown): Pick<Job, 'jobId' | 'request' | 'template'> => ({ jobId: 'job-1', request: REQUEST, ...(template !== undefined ? { template: template as Job['template'] } : {}) });
const thrown = (f: () => unknown): unknown => {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

it("without overrides: the job's own request, and its template record carried on", () => {
  const run = templateRun('report', { date: '2026-12-01', label: 'configured; value' });
  expect(rerunSource(job(), TEMPLATES, undefined)).toEqual({ body: REQUEST });
  expect(rerunSource(job(run), TEMPLATES, {})).toEqual({ body: REQUEST, template: run });
});

it("overrides render the template again: the override is checked as an event's value, the job's configured values keep their provenance", () => {
  // `label` came from the configuration (not the event): its `;` is fine in the script, as it was when the job was made.
  const run = templateRun('report', { date: '2026-12-01', label: 'configured; value' });
  const source = rerunSource(job(run), TEMPLATES, { date: '2026-12-02' });
  expect(source.body).toMatchObject({ name: 'report 2026-12-02', step: { args: ['bash', '-c', 'echo 2026-12-02 configured; value'] } });
  expect(source.template).toEqual({ name: 'report', parameters: { date: '2026-12-02', label: 'configured; value' }, fromEvent: ['date'] });
  // The caller's value never brings script syntax into the script.
  const injected = thrown(() => rerunSource(job(run), TEMPLATES, { date: '$(curl evil)' })) as ValidationError;
  expect(injected).toBeInstanceOf(ValidationError);
  expect(injected.issues[0]).toMatchObject({ field: 'params.date' });
  // A declared parameter: checked against its declaration.
  const compact = templateRun('compact', { day: { value: '2026-11-28', fromEvent: true } });
  expect(rerunSource(job(compact), TEMPLATES, { day: '2026-11-29' }).body).toMatchObject({ name: 'compact 2026-11-29' });
  expect((thrown(() => rerunSource(job(compact), TEMPLATES, { day: 'tomorrow' })) as ValidationError).issues[0]).toMatchObject({ field: 'params.day' });
});

it('refuses overrides of a job no template made, of parameters the job has not, and of a template no longer configured', () => {
  expect((thrown(() => rerunSource(job(), TEMPLATES, { day: 'x' })) as ValidationError).issues[0]).toMatchObject({ field: 'parameters', message: expect.stringContaining('no template') });
  const compact = templateRun('compact', { day: '2026-11-28' });
  expect((thrown(() => rerunSource(job(compact), TEMPLATES, { owner: 'x' })) as ValidationError).issues[0]).toMatchObject({ field: 'parameters.owner' });
  expect(thrown(() => rerunSource(job({ ...compact, name: 'gone' }), TEMPLATES, { day: '2026-11-29' }))).toBeInstanceOf(ConflictError);
  // `constructor` is no template of the configuration, nor a parameter of the job.
  expect(thrown(() => rerunSource(job({ ...compact, name: 'constructor' }), TEMPLATES, { day: '2026-11-29' }))).toBeInstanceOf(ConflictError);
  expect((thrown(() => rerunSource(job(compact), TEMPLATES, { constructor: 'x' })) as ValidationError).issues[0]).toMatchObject({ field: 'parameters.constructor' });
});

it('a template record planted in the table is refused, never rendered', () => {
  for (const planted of [{ name: 'compact', parameters: ['x'], fromEvent: [] }, { name: 'compact', parameters: { day: { $ne: 1 } }, fromEvent: [] }, { name: 3 }, 'compact', null]) {
    expect(thrown(() => rerunSource(job(planted), TEMPLATES, { day: '2026-11-29' }))).toBeInstanceOf(IntegrityError);
  }
});
