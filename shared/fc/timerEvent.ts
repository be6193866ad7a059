/**
 * First middleware of `delivery-health`: FC's timer event arrives as a Buffer of
 * `{"triggerTime","triggerName","payload"}`. Anything else (a manual invoke with an empty or free-form body, the
 * webhook's kick) is accepted too and treated as "run now", because every run of this function does the same work.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { FcTimerEvent, MiddyFcContext } from './types';

/** Parses the invocation payload; never throws (a run must not be lost to a malformed manual invoke). */
function parseTimerEvent(raw: unknown, now: Date = new Date()): FcTimerEvent {
  const fallback: FcTimerEvent = { triggerTime: now.toISOString(), triggerName: 'invoke', payload: '' };
  let event: unknown = raw;
  if (Buffer.isBuffer(raw) || typeof raw === 'string') {
    const text = raw.toString().trim();
    if (text === '') return fallback;
    try {
      event = JSON.parse(text);
    } catch {
      return { ...fallback, payload: text };
    }
  }
  if (event === null || typeof event !== 'object') return fallback;
  const candidate = event as Partial<Record<keyof FcTimerEvent, unknown>>;
  return {
    triggerTime: typeof candidate.triggerTime === 'string' ? candidate.triggerTime : fallback.triggerTime,
    triggerName: typeof candidate.triggerName === 'string' ? candidate.triggerName : fallback.triggerName,
    payload:
      typeof candidate.payload === 'string' ? candidate.payload : JSON.stringify(candidate.payload ?? event ?? ''),
  };
}

function fcTimerEvent(): MiddlewareObj<unknown, unknown, Error, MiddyFcContext> {
  const fcTimerEventBefore = (request: Request<unknown, unknown, Error, MiddyFcContext>): void => {
    request.event = parseTimerEvent(request.event);
  };
  return { before: fcTimerEventBefore, name: 'fcTimerEvent' };
}

export { fcTimerEvent, parseTimerEvent };
