/**
 * A delivery record for store tests: a trigger of the documented ARMS alert, PENDING, version 1, created `at` and
 * kept seven days. Each test overrides what it is about.
 */
import { DeliveryStatus, EventAction, Severity } from '../../shared/constants';
import type { DeliveryRecord } from '../../shared/store/DeliveryRecord';

const SEVEN_DAYS_MS = 7 * 86_400_000;

function deliveryRecord(key: string, at: number, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
  return {
    deliveryKey: key,
    dedupKey: `identity-${key}`,
    occurrence: 1_613_978_295_578,
    action: EventAction.TRIGGER,
    routeName: 'default',
    status: DeliveryStatus.PENDING,
    version: 1,
    event: {
      event_action: EventAction.TRIGGER,
      dedup_key: `identity-${key}`,
      payload: { summary: '容器内存使用率大于80%', source: 'arms', severity: Severity.WARNING },
    },
    attempts: 0,
    createdAt: at,
    updatedAt: at,
    expiresAt: at + SEVEN_DAYS_MS,
    ...overrides,
  };
}

export { deliveryRecord };
