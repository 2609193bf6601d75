/**
 * EventBridge schedule expressions, in UTC: `rate(5 minutes)` and `cron(min hour day-of-month month
 * day-of-week year)` with numbers, names (JAN-DEC, SUN-SAT), `*`, `?`, ranges, lists and steps. The
 * L, W and # forms are refused with a clear message rather than misread.
 */
export interface Schedule {
  /** The first firing strictly after `after`. */
  next(after: Date): Date;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function field(text: string, min: number, max: number, names: string[] = [], nameBase = 0): Set<number> | undefined {
  if (text === '*' || text === '?') return undefined; // any
  if (/[LW#]/.test(text)) throw new Error(`"${text}": the L, W and # forms are not supported here`);
  const values = new Set<number>();
  const value = (v: string): number => {
    const named = names.indexOf(v.toUpperCase());
    const n = named >= 0 ? named + nameBase : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`"${v}" is outside ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new Error(`"${part}": the step must be a positive whole number`);
    if (!/^(\*|[A-Za-z0-9]+(-[A-Za-z0-9]+)?)$/.test(range)) throw new Error(`"${part}" is not a value, a range a-b, or *`);
    const [from, to] = range === '*' ? [min, max] : range.includes('-') ? range.split('-').map(value) : [value(range), stepText === undefined ? value(range) : max];
    if (from === undefined || to === undefined || from > to) throw new Error(`"${part}" is not a valid range`);
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

export function parseSchedule(expression: string): Schedule {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw new Error('the rate must be at least 1');
    if ((n === 1) !== !rate[2]!.endsWith('s')) throw new Error(`write rate(1 ${rate[2]!.replace(/s$/, '')}) or rate(N ${rate[2]!.replace(/s?$/, 's')})`);
    const ms = n * { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[rate[2]!.replace(/s$/, '') as 'minute' | 'hour' | 'day'];
    if (ms > 366 * 86_400_000) throw new Error('the rate must be at most a year');
    return { next: (after) => new Date(Math.floor(after.getTime() / ms) * ms + ms) };
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) throw new Error('must be rate(N unit) or cron(minutes hours day-of-month month day-of-week year)');
  const parts = cron[1]!.trim().split(/\s+/);
  if (parts.length !== 6) throw new Error(`cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`);
  const [mi, h, dom, mon, dow, yr] = parts as [string, string, string, string, string, string];
  if ((dom === '?') === (dow === '?')) throw new Error('use ? in exactly one of day-of-month and day-of-week');
  const minutes = field(mi, 0, 59);
  const hours = field(h, 0, 23);
  const days = field(dom, 1, 31);
  const months = field(mon, 1, 12, MONTHS, 1);
  const weekdays = field(dow, 1, 7, DAYS, 1); // EventBridge: 1 = Sunday
  const years = field(yr, 1970, 2199);
  const ok = (set: Set<number> | undefined, v: number) => !set || set.has(v);
  return {
    next(after) {
      const t = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
      for (let i = 0; i < 60 * 24 * 366 * 5; i++) {
        if (!ok(years, t.getUTCFullYear()) || !ok(months, t.getUTCMonth() + 1) || !ok(days, t.getUTCDate()) || !ok(weekdays, t.getUTCDay() + 1)) {
          t.setUTCHours(0, 0, 0, 0);
          t.setUTCDate(t.getUTCDate() + 1);
          continue;
        }
        if (!ok(hours, t.getUTCHours())) {
          t.setUTCMinutes(0, 0, 0);
          t.setUTCHours(t.getUTCHours() + 1);
          continue;
        }
        if (ok(minutes, t.getUTCMinutes())) return new Date(t);
        t.setUTCMinutes(t.getUTCMinutes() + 1);
      }
      throw new Error(`${expression} never fires again`);
    },
  };
}
