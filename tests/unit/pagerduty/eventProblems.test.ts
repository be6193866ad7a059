import { describe, expect, it } from 'vitest';
import { eventProblems } from '../../../shared/pagerduty/eventProblems';
import type { PagerDutyEventBody } from '../../../shared/pagerduty/types';
import { ROUTING_KEY } from '../../support/alerts';

function valid(): PagerDutyEventBody {
  return {
    event_action: 'trigger',
    dedup_key: 'k1',
    payload: { summary: 'Disk full', source: 'db-1', severity: 'critical', timestamp: '2021-02-22T07:18:15.578Z' },
    links: [{ href: 'https://runbooks.example.com/disk', text: 'Runbook' }],
    images: [{ src: 'https://grafana.example.com/disk.png' }],
    client: 'ARMS',
    client_url: 'https://alerts.console.aliyun.com/#/alarm/alert/detail/1',
  };
}

// biome-ignore lint/suspicious/noExplicitAny: these tests break the event's type on purpose
type Loose = any;

/** Applies `change` to a fresh valid event; the change may break the type on purpose. */
function variant(change: (event: Loose) => void): unknown {
  const event = structuredClone(valid()) as Loose;
  change(event);
  return event;
}

describe('Schema: validatePagerDutyEvent (via eventProblems)', () => {
  it.each([
    { case: 'the stored body (no routing key)', event: valid() },
    { case: 'the sent body (32-character routing key)', event: { routing_key: ROUTING_KEY, ...valid() } },
    {
      case: 'a resolve',
      event: variant((e) => {
        e.event_action = 'resolve';
      }),
    },
    {
      case: '1024 emoji in the summary',
      event: variant((e) => {
        e.payload.summary = '🔥'.repeat(1024);
      }),
    },
    {
      case: 'a 255-character dedup_key',
      event: variant((e) => {
        e.dedup_key = 'k'.repeat(255);
      }),
    },
    {
      case: 'a timestamp with offset',
      event: variant((e) => {
        e.payload.timestamp = '2015-07-17T08:42:58.315+0000';
      }),
    },
    {
      case: 'nested custom_details',
      event: variant((e) => {
        e.payload.custom_details = { a: { b: [1] } };
      }),
    },
  ])('accepts $case', ({ event }) => {
    // Act / Assess
    expect(eventProblems(event)).toEqual([]);
  });

  it.each([
    {
      case: 'summary of 1025 code points',
      change: (e: Loose) => {
        e.payload.summary = '告'.repeat(1025);
      },
      problem: 'payload.summary must NOT have more than 1024 characters',
    },
    {
      case: 'blank summary',
      change: (e: Loose) => {
        e.payload.summary = '  ';
      },
      problem: 'payload.summary must match pattern "\\S"',
    },
    {
      case: 'missing source',
      change: (e: Loose) => {
        delete e.payload.source;
      },
      problem: 'payload.source is required',
    },
    {
      case: 'severity none',
      change: (e: Loose) => {
        e.payload.severity = 'none';
      },
      problem: 'payload.severity must be one of critical, error, warning, info',
    },
    {
      case: 'dedup_key of 256',
      change: (e: Loose) => {
        e.dedup_key = 'k'.repeat(256);
      },
      problem: 'dedup_key must NOT have more than 255 characters',
    },
    {
      case: 'missing dedup_key',
      change: (e: Loose) => {
        delete e.dedup_key;
      },
      problem: 'dedup_key is required',
    },
    {
      case: 'missing payload',
      change: (e: Loose) => {
        delete e.payload;
      },
      problem: 'payload is required',
    },
    {
      case: 'bad event_action',
      change: (e: Loose) => {
        e.event_action = 'ack';
      },
      problem: 'event_action must be one of trigger, acknowledge, resolve',
    },
    {
      case: 'http image',
      change: (e: Loose) => {
        e.images[0].src = 'http://x/i.png';
      },
      problem: 'images[0].src must match pattern "^https://\\S+$"',
    },
    {
      case: 'link without href',
      change: (e: Loose) => {
        e.links[0] = { text: 'x' };
      },
      problem: 'links[0].href is required',
    },
    {
      case: 'links inside payload',
      change: (e: Loose) => {
        e.payload.links = e.links;
      },
      problem: 'payload.links is not a known field',
    },
    {
      case: 'short routing key',
      change: (e: Loose) => {
        e.routing_key = 'abc';
      },
      problem: 'routing_key must NOT have fewer than 32 characters',
    },
    {
      case: 'bad timestamp',
      change: (e: Loose) => {
        e.payload.timestamp = 'yesterday';
      },
      problem: 'payload.timestamp must match pattern',
    },
    {
      case: 'empty component',
      change: (e: Loose) => {
        e.payload.component = '';
      },
      problem: 'payload.component must NOT have fewer than 1 characters',
    },
  ])('rejects $case', ({ change, problem }) => {
    // Act
    const problems = eventProblems(variant(change));

    // Assess
    expect(problems.join('\n')).toContain(problem);
  });
});

describe('Function: eventProblems', () => {
  it('passes a valid event, with or without its routing key', () => {
    // Act / Assess
    expect(eventProblems(valid())).toEqual([]);
    expect(eventProblems({ routing_key: ROUTING_KEY, ...valid() })).toEqual([]);
  });

  it('names the failing field, never the routing key', () => {
    // Prepare
    const event = { routing_key: ROUTING_KEY, ...valid(), payload: { ...valid().payload, severity: 'page' } };

    // Act
    const problems = eventProblems(event);

    // Assess
    expect(problems).toEqual(['payload.severity must be one of critical, error, warning, info']);
    expect(JSON.stringify(problems)).not.toContain(ROUTING_KEY);
  });
});
