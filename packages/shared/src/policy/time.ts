// The input's `time` in a document's time zone (docs/policy.md "Input"). Pure apart from a per-zone formatter cache.

import { POLICY_WEEKDAYS, type PolicyTime, type PolicyWeekday } from './types.js';

const MINUTE_MS = 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
/** The last answer per zone, reused for every message in the same minute. */
const lastMinute = new Map<string, { minute: number; weekday: PolicyWeekday; minuteOfDay: number }>();
const WEEKDAY_BY_SHORT: Readonly<Record<string, PolicyWeekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/**
 * The `time` member of a policy input for `unixMs` (ms since the epoch) in the IANA `timeZone`: week day
 * (`mon`…`sun`) and minute of day (0–1439) on that zone's wall clock, daylight saving included. Throws a RangeError
 * for an unknown zone (documents are checked with `isTimeZone` when parsed).
 */
export function policyTime(unixMs: number, timeZone: string): PolicyTime {
  const minute = Math.floor(unixMs / MINUTE_MS);
  const memo = lastMinute.get(timeZone);
  if (memo?.minute === minute) return { unixMs, weekday: memo.weekday, minuteOfDay: memo.minuteOfDay };
  const fresh = timeZone === 'UTC' ? utcClock(minute) : zoneClock(unixMs, timeZone);
  lastMinute.set(timeZone, { minute, ...fresh });
  return { unixMs, ...fresh };
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

function utcClock(minute: number): { weekday: PolicyWeekday; minuteOfDay: number } {
  const day = Math.floor(minute / 1440);
  // 1970-01-01 was a Thursday: index 3 with Monday first.
  const weekday = POLICY_WEEKDAYS[(((day + 3) % 7) + 7) % 7] as PolicyWeekday;
  return { weekday, minuteOfDay: minute - day * 1440 };
}

function zoneClock(unixMs: number, timeZone: string): { weekday: PolicyWeekday; minuteOfDay: number } {
  let weekday: PolicyWeekday = 'mon';
  let hour = 0;
  let minuteOfHour = 0;
  for (const part of formatterFor(timeZone).formatToParts(unixMs)) {
    if (part.type === 'weekday') weekday = WEEKDAY_BY_SHORT[part.value] ?? weekday;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minuteOfHour = Number(part.value);
  }
  return { weekday, minuteOfDay: hour * 60 + minuteOfHour };
}

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}
