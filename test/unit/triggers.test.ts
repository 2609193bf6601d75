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

describe('EventBridge operators: wildcard, $or and the rest, matched as EventBridge matches them', () => {
  const cloudwatch = (fields: Record<string, unknown>) => ({ source: 'aws.cloudwatch', ...fields });
  it.each<[string, unknown, unknown, boolean]>([
    // wildcard: * is zero or more characters; \\* a literal star; strings only; any element of an array.
    ['wildcard', { source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueueService' }, true],
    ['wildcard, empty star', { source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleService' }, true],
    ['wildcard, no match', { source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueue' }, false],
    ['wildcard, several stars', { detail: { key: [{ wildcard: 'raw/*/orders-*.csv' }] } }, { detail: { key: 'raw/2026/11/orders-1.csv' } }, true],
    ['wildcard, regex characters are literal', { detail: { key: [{ wildcard: 'a.b*' }] } }, { detail: { key: 'axb' } }, false],
    ['wildcard, escaped star', { detail: { key: [{ wildcard: 'a\\*b' }] } }, { detail: { key: 'a*b' } }, true],
    ['wildcard, escaped star is no wildcard', { detail: { key: [{ wildcard: 'a\\*b' }] } }, { detail: { key: 'axb' } }, false],
    ['wildcard, escaped backslash', { detail: { key: [{ wildcard: 'a\\\\*' }] } }, { detail: { key: 'a\\zz' } }, true],
    ['wildcard, not on numbers', { detail: { n: [{ wildcard: '1*' }] } }, { detail: { n: 12 } }, false],
    ['wildcard, any array element', { resources: [{ wildcard: 'arn:aws:s3:::landing/*' }] }, { resources: ['arn:aws:s3:::other/x', 'arn:aws:s3:::landing/y'] }, true],
    // $or: any of the sub-patterns at that level, ANDed with the fields beside it (the event ruler's examples).
    ['$or, first', { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] }, cloudwatch({ metricName: 'ReadLatency' }), true],
    ['$or, second', { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] }, cloudwatch({ namespace: 'AWS/ES' }), true],
    ['$or, neither', { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] }, cloudwatch({ namespace: 'AWS/ES', metricName: 'Other' }), false],
    ['$or, ANDed with its siblings', { source: ['aws.ec2'], $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }] }, cloudwatch({ metricName: 'CPUUtilization' }), false],
    ['$or with an AND inside', { $or: [{ metricName: ['X'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'] }] }, { metricType: 'MetricType', namespace: 'AWS/EC2' }, true],
    ['$or with an AND inside, half', { $or: [{ metricName: ['X'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2'] }] }, { metricType: 'MetricType', namespace: 'AWS/ES' }, false],
    ['$or nested in detail, in parallel', { $or: [{ a: ['1'] }, { b: ['2'] }], detail: { $or: [{ c: ['3'] }, { d: ['4'] }] } }, { b: '2', detail: { d: '4' } }, true],
    ['$or nested in detail, one side fails', { $or: [{ a: ['1'] }, { b: ['2'] }], detail: { $or: [{ c: ['3'] }, { d: ['4'] }] } }, { b: '2', detail: { d: '5' } }, false],
    ['$or nested in $or', { $or: [{ a: ['1'] }, { b: ['2'], $or: [{ c: ['3'] }, { d: ['4'] }] }] }, { b: '2', d: '4' }, true],
    ['"$or" that is not a list of 2+ objects is a field name', { $or: { a: ['1'] } }, { $or: { a: '1' } }, true],
    // The ignore-case forms, anything-but's object forms, cidr.
    ['prefix ignoring case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, { detail: { service: 'eventbridge' } }, true],
    ['suffix ignoring case', { detail: { file: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, { detail: { file: 'A.PNG' } }, true],
    ['anything-but wildcard', { detail: { path: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, { detail: { path: '/usr/lib/x' } }, false],
    ['anything-but wildcard, other', { detail: { path: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, { detail: { path: '/usr/bin/x' } }, true],
    ['anything-but ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['initializing', 'stopped'] } }] } }, { detail: { state: 'INITIALIZING' } }, false],
    ['cidr', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, { detail: { ip: '10.0.0.33' } }, true],
    ['cidr, outside', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, { detail: { ip: '10.0.1.1' } }, false],
    ['cidr, IPv6', { detail: { ip: [{ cidr: '2001:db8::/32' }] } }, { detail: { ip: '2001:db8::1' } }, true],
    // Arrays of objects: one element must match the nested pattern whole.
    ['array of objects', { employees: { firstName: ['Anna'] } }, { employees: [{ firstName: 'John' }, { firstName: 'Anna' }] }, true],
    ['array of objects, fields of different elements', { employees: { firstName: ['Anna'], lastName: ['Jones'] } }, { employees: [{ firstName: 'Anna', lastName: 'Smith' }, { firstName: 'Peter', lastName: 'Jones' }] }, false],
    ['exists false under a missing parent', { detail: { c: [{ exists: false }] } }, { source: 'x' }, true],
  ])('%s', (_case, pattern, event, expected) => expect(matchesPattern(pattern, event)).toBe(expected));
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
  const trigger = (pattern: string) => `${base}triggers: [{ name: n, eventPattern: ${pattern}, template: t, principal: "arn:aws:iam::123456789012:role/A" }]\n`;
  it('an event pattern with a bare value or an unknown matcher is a config error naming it', () => {
    expect(() => parseConfig(trigger('{ source: aws.s3 }'), '/c.yaml')).toThrow(/triggers\[0\]\.eventPattern\.source: must be a list of values/);
    expect(() => parseConfig(trigger('{ detail: { key: [{ contains: "x" }] } }'), '/c.yaml')).toThrow(/triggers\[0\]\.eventPattern\.detail\.key\[0\]: unknown matcher/);
  });
  it('wildcard, $or, cidr and the ignore-case forms are accepted, as EventBridge accepts them', () => {
    for (const pattern of [
      '{ detail: { key: [{ wildcard: "raw/*/orders-*.csv" }] } }',
      '{ source: [app.orders], $or: [{ detail-type: [Order Placed] }, { detail: { priority: [high] } }] }',
      '{ detail: { $or: [{ a: [x] }, { b: [y], c: [{ exists: false }] }] } }',
      '{ detail: { ip: [{ cidr: 10.0.0.0/24 }], svc: [{ prefix: { equals-ignore-case: EventB } }], file: [{ suffix: { equals-ignore-case: .PNG } }] } }',
      '{ detail: { path: [{ anything-but: { wildcard: "*/lib/*" } }], state: [{ anything-but: { equals-ignore-case: [Init, Stopped] } }] } }',
    ]) {
      expect(() => parseConfig(trigger(pattern), '/c.yaml')).not.toThrow();
    }
  });
  it.each([
    ['{ detail: { key: [{ wildcard: "a**b" }] } }', /detail\.key\[0\]: a wildcard may not have consecutive "\*"/],
    ['{ detail: { key: [{ wildcard: "a\\\\xb" }] } }', /detail\.key\[0\]: in a wildcard, "\\" escapes only/],
    ['{ $or: [{ source: [a] }] }', /eventPattern\.\$or: \$or takes a list of two or more patterns/],
    ['{ $or: [{ source: [a] }, { source: [{ wildcard: 1 }] }] }', /eventPattern\.\$or\[1\]\.source\[0\]: a wildcard is a string/],
    ['{ detail: { ip: [{ cidr: "10.0.0.0/33" }] } }', /is not an IP address or CIDR block/],
    ['{ detail: { n: [{ numeric: [">", "5"] }] } }', /numeric takes \[operator, number/],
  ])('refuses %s', (pattern, message) => {
    expect(() => parseConfig(trigger(pattern), '/c.yaml')).toThrow(message);
  });
  it('anything-but suffix excludes what ends so', () => {
    expect(matchesPattern({ detail: { key: [{ 'anything-but': { suffix: '.tmp' } }] } }, { detail: { key: 'a.tmp' } })).toBe(false);
    expect(matchesPattern({ detail: { key: [{ 'anything-but': { suffix: '.tmp' } }] } }, { detail: { key: 'a.csv' } })).toBe(true);
  });
});
