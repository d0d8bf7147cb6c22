import { describe, expect, it } from 'vitest';
import { MalformedJsonError } from './http-errors.js';
import { parseJsonBody } from './json-body.js';

describe('parseJsonBody', () => {
  it('reads JSON, and an empty body as none', () => {
    expect(parseJsonBody('{"a":[1,true,null]}')).toEqual({ a: [1, true, null] });
    expect(parseJsonBody('  \n')).toBeUndefined();
  });

  it.each([
    ['{"a":1', /^the request body is not valid JSON: .* \(line 1, column 7\)$/],
    ['{\n  "a": 1,\n  "b": }', /^the request body is not valid JSON: Unexpected token '}'/],
    ['{"a":1} x', /^the request body is not valid JSON: /],
  ])('says what is wrong with %j', (text, message) => {
    expect(() => parseJsonBody(text)).toThrow(message);
    expect(() => parseJsonBody(text)).toThrow(MalformedJsonError);
  });

  it('refuses "__proto__" keys at any depth', () => {
    expect(() => parseJsonBody('{"a":{"__proto__":{"polluted":true}}}')).toThrow(
      'the request body must not contain a "__proto__" key',
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
