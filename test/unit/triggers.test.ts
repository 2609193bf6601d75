import { parseConfig } from '../../src/config-file/load';
import { ConfigError } from '../../src/errors';
import { matchesPattern } from '../../src/triggers/event-pattern';
import { parseSchedule } from '../../src/triggers/schedule-expression';
import { LocalScheduler } from '../../src/local/scheduler';

const next = (expression: string, after: string): string => parseSchedule(expression).next(new Date(after)).toISOString();

describe('schedule expressions (UTC)', () => {
  it.each([
    ['rate(5 minutes)', '2026-11-28T10:02:30Z', '2026-11-28T10:05:00.000Z'],
    ['rate(1 hour)', '2026-11-28T10:00:00Z', '2026-11-28T11:00:00.000Z'],
    ['rate(1 day)', '2026-11-28T10:00:00Z', '2026-11-29T00:00:00.000Z'],
    ['cron(0 2 * * ? *)', '2026-11-28T10:00:00Z', '2026-11-29T02:00:00.000Z'],
    ['cron(0 2 * * ? *)', '2026-11-28T01:59:59Z', '2026-11-28T02:00:00.000Z'],
    ['cron(15,45 8-9 ? * MON-FRI *)', '2026-11-28T10:00:00Z', '2026-11-30T08:15:00.000Z'], // Saturday → Monday
    ['cron(0/20 * * * ? *)', '2026-11-28T10:41:00Z', '2026-11-28T11:00:00.000Z'],
    ['cron(0 0 1 JAN ? 2027)', '2026-11-28T10:00:00Z', '2027-01-01T00:00:00.000Z'],
    ['cron(30 12 ? * 1 *)', '2026-11-28T10:00:00Z', '2026-11-29T12:30:00.000Z'], // 1 = Sunday
  ])('%s after %s → %s', (expression, after, expected) => expect(next(expression, after)).toBe(expected));

  it.each([
    ['cron(0 2 * * *)', /6 fields/],
    ['cron(0 2 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 2 L * ? *)', /L, W and # forms are not supported/],
    ['cron(61 2 * * ? *)', /outside 0-59/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(5 minute)', /rate\(N minutes\)/],
    ['every day', /must be rate/],
  ])('refuses %s', (expression, message) => expect(() => parseSchedule(expression)).toThrow(message));

  it('a configuration with a bad schedule names it', () => {
    const config = `account: "123456789012"
region: us-east-1
clusters: [{ id: j-A1, name: a, runtimeRoles: true }]
templates: { t: {} }
schedules: [{ name: n, schedule: "cron(0 2 * * * *)", template: t, principal: "arn:aws:iam::123456789012:role/A" }]
`;
    expect(() => parseConfig(config, '/c.yaml')).toThrow(ConfigError);
    expect(() => parseConfig(config, '/c.yaml')).toThrow(/schedules\[0\]\.schedule: use \? in exactly one/);
  });
});

describe('event patterns', () => {
  const event = { source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: 'landing' }, object: { key: 'raw/2026/orders.csv', size: 2048 }, tags: ['a', 'b'] } };
  it.each([
    [{ source: ['aws.s3'] }, true],
    [{ source: ['aws.ec2', 'aws.s3'], 'detail-type': ['Object Created'] }, true],
    [{ source: ['aws.ec2'] }, false],
    [{ detail: { bucket: { name: ['landing'] }, object: { key: [{ prefix: 'raw/' }] } } }, true],
    [{ detail: { object: { key: [{ prefix: 'curated/' }] } } }, false],
    [{ detail: { object: { key: [{ suffix: '.csv' }] } } }, true],
    [{ detail: { object: { key: [{ 'anything-but': { prefix: 'tmp/' } }] } } }, true],
    [{ detail: { bucket: { name: [{ 'anything-but': ['landing'] }] } } }, false],
    [{ detail: { object: { etag: [{ exists: false }] } } }, true],
    [{ detail: { object: { key: [{ exists: true }] } } }, true],
    [{ detail: { object: { size: [{ numeric: ['>', 1024, '<=', 4096] }] } } }, true],
    [{ detail: { object: { size: [{ numeric: ['<', 1024] }] } } }, false],
    [{ detail: { tags: ['b'] } }, true],
    [{ 'detail-type': [{ 'equals-ignore-case': 'object created' }] }, true],
    [{ missing: ['x'] }, false],
  ])('%j → %s', (pattern, expected) => expect(matchesPattern(pattern, event)).toBe(expected));
});

describe('the local scheduler', () => {
  it('fires each schedule at its times (UTC), with the scheduled time', () => {
    jest.useFakeTimers({ now: new Date('2026-11-28T10:02:30Z') });
    try {
      const fired: string[] = [];
      const scheduler = new LocalScheduler([{ name: 'five', schedule: 'rate(5 minutes)' }], (name, time) => {
        fired.push(`${name}@${time}`);
        return Promise.resolve();
      });
      jest.advanceTimersByTime(13 * 60_000);
      scheduler.stop();
      expect(fired).toEqual(['five@2026-11-28T10:05:00.000Z', 'five@2026-11-28T10:10:00.000Z', 'five@2026-11-28T10:15:00.000Z']);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('schedule and trigger checks at config load', () => {
  const base = `account: "123456789012"
region: us-east-1
clusters: [{ id: j-A1, name: a, runtimeRoles: true }]
templates: { t: {} }
`;
  it('a schedule that never fires again is a config error', () => {
    expect(() => parseConfig(`${base}schedules: [{ name: n, schedule: "cron(0 12 * * ? 2020)", template: t, principal: "arn:aws:iam::123456789012:role/A" }]\n`, '/c.yaml')).toThrow(/schedules\[0\]\.schedule: .*never fires again/);
  });
  it('an event pattern with a bare value or an unknown matcher is a config error naming it', () => {
    const trigger = (pattern: string) => `${base}triggers: [{ name: n, eventPattern: ${pattern}, template: t, principal: "arn:aws:iam::123456789012:role/A" }]\n`;
    expect(() => parseConfig(trigger('{ source: aws.s3 }'), '/c.yaml')).toThrow(/triggers\[0\]\.eventPattern\.source: must be a list of values/);
    expect(() => parseConfig(trigger('{ detail: { key: [{ wildcard: "x*" }] } }'), '/c.yaml')).toThrow(/triggers\[0\]\.eventPattern\.detail\.key\[0\]: unknown matcher/);
  });
  it('anything-but suffix excludes what ends so', () => {
    expect(matchesPattern({ detail: { key: [{ 'anything-but': { suffix: '.tmp' } }] } }, { detail: { key: 'a.tmp' } })).toBe(false);
    expect(matchesPattern({ detail: { key: [{ 'anything-but': { suffix: '.tmp' } }] } }, { detail: { key: 'a.csv' } })).toBe(true);
  });
});
