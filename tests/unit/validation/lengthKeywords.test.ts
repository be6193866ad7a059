/**
 * The generated validators count `maxLength` / `minLength` with a fast path (`scripts/compile-schemas.mjs`): it must
 * give exactly the verdicts and errors of ajv's own keywords, which count code points, for any string.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertSchema } from '../../../shared/alerts/schema';
import { validateAlert } from '../../../shared/validation/generated/validators';

const reference: ValidateFunction = new Ajv({ allErrors: true, strict: true }).compile(alertSchema);

/** Strings around a limit, of BMP characters, astral ones (two UTF-16 units each) and lone surrogates. */
const text = (units: number) =>
  fc
    .array(fc.constantFrom('a', '告', '🔥', '\ud800', '\udc00'), { minLength: 0, maxLength: units })
    .map((parts) => parts.join(''));

function verdict(validate: ValidateFunction, value: unknown) {
  const valid = validate(value);
  return { valid, errors: validate.errors ?? null };
}

describe('Generated validators: maxLength / minLength', () => {
  it.each([
    ['at the limit in code points, twice over it in units', { a: '🔥'.repeat(16_384) }],
    ['one code point over the limit', { a: `${'🔥'.repeat(16_383)}ab` }],
    ['at the limit in units', { a: 'x'.repeat(16_384) }],
    ['one unit over the limit', { a: 'x'.repeat(16_385) }],
    ['an empty label name', { '': 'x' }],
    ['a label name of one astral character', { '🔥': 'x' }],
    ['a label name over the limit in code points', { ['告'.repeat(16_385)]: 'x' }],
  ])('answers %s as ajv does', (_name, labels) => {
    // Prepare
    const alert = { status: 'firing', labels, annotations: labels, fingerprint: Object.values(labels)[0] };

    // Act & Assess
    expect(verdict(validateAlert, alert)).toEqual(verdict(reference, alert));
  });

  it('answers any string as ajv does (property)', () => {
    // Prepare: small limits would need another schema; instead strings near the label limit, built from few parts
    const near = fc
      .tuple(fc.integer({ min: 16_370, max: 16_390 }), text(12))
      .map(([repeat, tail]) => `${'告'.repeat(Math.max(0, repeat - 12))}${tail}`);
    const alert = fc.record({
      status: fc.constant('firing'),
      labels: fc.dictionary(fc.oneof(text(3), near), fc.oneof(text(6), near), { minKeys: 1, maxKeys: 3 }),
      fingerprint: fc.oneof(text(6), near),
    });

    // Act & Assess
    fc.assert(
      fc.property(alert, (value) => {
        expect(verdict(validateAlert, value)).toEqual(verdict(reference, value));
      }),
      { numRuns: 300 },
    );
  });
});
