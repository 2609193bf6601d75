/** `--faults` (and EMR_GATEWAY_FAULTS) of `emr-gateway local`: what the local AWS endpoint injects. */
import { NO_FAULTS, parseFaults } from '../../src/local/aws-endpoint';

const NAMES = 'emr.throttle, emr.latencyMs, dynamodb.errors, dynamodb.throttle';

describe('parseFaults', () => {
  it('reads every fault', () => {
    expect(parseFaults('emr.throttle=0.1,emr.latencyMs=50,dynamodb.errors=0.05,dynamodb.throttle=0.02')).toEqual({
      emrThrottleRate: 0.1,
      emrLatencyMs: 50,
      dynamoErrorRate: 0.05,
      dynamoThrottleRate: 0.02,
    });
  });

  it('leaves unnamed faults at zero, ignores spaces around parts and empty parts, and lets a later setting win', () => {
    expect(parseFaults(' dynamodb.errors=1 , ,emr.throttle=0.2,emr.throttle=0 ')).toEqual({ ...NO_FAULTS, dynamoErrorRate: 1 });
  });

  it('takes rates from 0 to 1 inclusive and any latency of 0 or more milliseconds', () => {
    expect(parseFaults('emr.throttle=1,dynamodb.throttle=0,emr.latencyMs=2500')).toEqual({ ...NO_FAULTS, emrThrottleRate: 1, emrLatencyMs: 2500 });
  });

  it.each([undefined, ''])('has no faults for %p, as a copy that can be changed without changing NO_FAULTS', (spec) => {
    const faults = parseFaults(spec);
    expect(faults).toEqual({ emrThrottleRate: 0, emrLatencyMs: 0, dynamoErrorRate: 0, dynamoThrottleRate: 0 });
    faults.emrLatencyMs = 10;
    expect(NO_FAULTS.emrLatencyMs).toBe(0);
  });

  it.each([
    ['an unknown name', 'emr.errors=0.1'],
    ['a name in another case', 'EMR.throttle=0.1'],
    ['spaces around =', 'emr.throttle = 0.1'],
    ['a value that is not a number', 'dynamodb.errors=often'],
    ['a negative rate', 'dynamodb.errors=-0.1'],
    ['a rate above 1', 'dynamodb.throttle=1.5'],
    ['a negative latency', 'emr.latencyMs=-5'],
    ['an infinite latency', 'emr.latencyMs=Infinity'],
  ])('rejects %s, naming the part and the faults it knows', (_kind, part) => {
    expect(() => parseFaults(part)).toThrow(`fault "${part}" is not one of ${NAMES} with a rate in 0..1 (latency in ms)`);
  });

  it('names only the bad part of a list', () => {
    expect(() => parseFaults('emr.throttle=0.1,bogus=1,dynamodb.errors=2')).toThrow(`fault "bogus=1" is not one of ${NAMES}`);
  });
});
