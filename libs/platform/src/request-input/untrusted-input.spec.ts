import { Type } from 'class-transformer';
import { IsArray, IsObject, ValidateNested } from 'class-validator';
import {
  CONTROL_CHARACTERS,
  MAX_JSON_DEPTH,
  nestedArrayProblems,
  NUL_CHARACTERS,
  untrustedInputProblem,
} from './untrusted-input';

describe('untrustedInputProblem', () => {
  const nested = (levels: number): unknown => (levels === 0 ? 'leaf' : [nested(levels - 1)]);

  it('takes ordinary input', () => {
    const body = { customerId: 'alice', items: [{ sku: 'A', quantity: 1 }], note: 'line\nbreak' };
    expect(untrustedInputProblem(body, NUL_CHARACTERS)).toBeUndefined();
    expect(untrustedInputProblem(nested(MAX_JSON_DEPTH), NUL_CHARACTERS)).toBeUndefined();
  });

  it('refuses nesting deeper than the limit without walking all of it', () => {
    expect(untrustedInputProblem(nested(MAX_JSON_DEPTH + 1), NUL_CHARACTERS)).toBe(
      'the input nests deeper than 32 levels',
    );
    expect(
      untrustedInputProblem(JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)), NUL_CHARACTERS),
    ).toBe('the input nests deeper than 32 levels');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s at any depth', (key) => {
    expect(untrustedInputProblem(JSON.parse(`{"a":[{"${key}":{}}]}`), NUL_CHARACTERS)).toBe(
      `property a.0.${key} should not exist`,
    );
  });

  it('refuses the forbidden characters in values and keys, naming the field', () => {
    expect(untrustedInputProblem({ a: { b: 'x\u0000' } }, NUL_CHARACTERS)).toBe(
      'a.b must not contain NUL characters',
    );
    expect(untrustedInputProblem({ 'k\u0000': 1 }, NUL_CHARACTERS)).toBe(
      'property names must not contain NUL characters',
    );
    expect(untrustedInputProblem('a\u001fb', CONTROL_CHARACTERS, 'id')).toBe(
      'id must not contain control characters',
    );
    expect(untrustedInputProblem({ q: ['ok', 'a\u007f'] }, CONTROL_CHARACTERS)).toBe(
      'q.1 must not contain control characters',
    );
  });

  it('refuses unpaired surrogates in values and keys, and takes paired ones', () => {
    expect(untrustedInputProblem({ name: ['ok', 'x\ud800'] }, NUL_CHARACTERS)).toBe(
      'name.1 must be well-formed Unicode (no unpaired surrogates)',
    );
    expect(untrustedInputProblem({ '\udfff\ud800': 1 }, NUL_CHARACTERS)).toBe(
      'property names must be well-formed Unicode (no unpaired surrogates)',
    );
    expect(untrustedInputProblem({ name: '😀' }, NUL_CHARACTERS)).toBeUndefined();
  });
});

describe('nestedArrayProblems', () => {
  class Line {
    sku: string;
  }
  class Limits {
    @ValidateNested({ each: true })
    @Type(() => Line)
    @IsArray()
    lines: Line[];
  }
  class Request {
    @ValidateNested({ each: true })
    @Type(() => Line)
    @IsArray()
    items: Line[];

    @ValidateNested()
    @Type(() => Limits)
    @IsObject()
    limits: Limits;
  }
  const request = (items: unknown[], limits: unknown = { lines: [] }) =>
    Object.assign(new Request(), { items, limits: Object.assign(new Limits(), limits) });

  it('takes arrays of objects', () => {
    expect(nestedArrayProblems(request([new Line(), new Line()]))).toEqual([]);
  });

  it('refuses an array, or a value that is not an object, where an element object is declared', () => {
    expect(nestedArrayProblems(request([[new Line()], 'x', null]))).toEqual([
      'each value in items must be an object',
      'each value in items must be an object',
      'each value in items must be an object',
    ]);
  });

  it('looks into nested objects, and refuses an array for a single nested object', () => {
    expect(nestedArrayProblems(request([], { lines: [[new Line()]] }))).toEqual([
      'each value in limits.lines must be an object',
    ]);
    expect(
      nestedArrayProblems(Object.assign(new Request(), { items: [], limits: [new Limits()] })),
    ).toEqual(['limits must be an object']);
  });
});
