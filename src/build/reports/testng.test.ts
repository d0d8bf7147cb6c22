import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseTestNgXml } from './testng.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function fixture(name: string): Promise<string> {
  return readFile(new URL(name, FIXTURES), 'utf8');
}

describe('parseTestNgXml', () => {
  it('reads the run totals and names failed test methods, not failed configuration', async () => {
    const report = parseTestNgXml(await fixture('testng-results.xml'));

    expect(report).toEqual({
      summary: { total: 4, passed: 2, failed: 1, skipped: 1, errors: 0, durationMs: 1530 },
      failures: [
        {
          suite: 'com.shop.CheckoutTest',
          name: 'appliesCoupon',
          message: 'expected [10.0] but found [12.0]',
        },
      ],
    });
  });

  it('rejects another XML format', async () => {
    const xml = await fixture('jest-junit.xml');

    expect(() => parseTestNgXml(xml)).toThrow(
      'not TestNG XML: the root element is <testsuites>, expected <testng-results>',
    );
  });
});
