/**
 * Shared state of one PagerDuty routing key, one small row per key beside the deliveries: the pacing window, the
 * circuit and the drain lease (`shared/delivery/KeyGate.ts`). Every sender of every instance reads and writes it by
 * compare-and-set on `version`, like the occurrence markers. `keyId` is a hash of the key, never the key.
 */
interface KeyState {
  keyId: string;
  version: number;
  updatedAt: number;
  expiresAt: number;
  data: Record<string, unknown>;
}

export type { KeyState };
