import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clonePlain } from '../../../shared/store/MemoryStore';

describe('Function: clonePlain (MemoryStore copies)', () => {
  it('copies plain data exactly as structuredClone does, sharing nothing', () => {
    const data = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.constant(undefined),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constant('__proto__')), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(data, (value) => {
        const copy = clonePlain(value);
        expect(copy).toStrictEqual(structuredClone(value));
        if (typeof value === 'object' && value !== null) expect(copy).not.toBe(value);
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves what is not plain data to structuredClone', () => {
    const at = new Date(0);
    expect(clonePlain({ at }).at).toStrictEqual(structuredClone(at));
    expect(() => clonePlain({ run: () => 1 })).toThrow();
  });
});
