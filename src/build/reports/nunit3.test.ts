import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseNUnit3Xml } from './nunit3.js';

const FIXTURES = new URL('./__fixtures__/', import.meta.url);

function fixture(name: string): Promise<string> {
  return readFile(new URL(name, FIXTURES), 'utf8');
}

describe('parseNUnit3Xml', () => {
  it('reads the run totals and names failed test cases, not failed suites', async () => {
    const report = parseNUnit3Xml(await fixture('nunit3.xml'));

    expect(report).toEqual({
      summary: { total: 5, passed: 3, failed: 1, skipped: 1, errors: 0, durationMs: 842 },
      failures: [
        {
          suite: 'Shop.Tests.CartTests',
          name: 'AppliesDiscount',
          message: 'Expected: 10m\n  But was:  12m',
        },
      ],
    });
  });

  it('rejects the NUnit 2 format', () => {
    const xml = '<?xml version="1.0"?><test-results total="1" failures="0"/>';

    expect(() => parseNUnit3Xml(xml)).toThrow(
      'not NUnit 3 XML: the root element is <test-results>, expected <test-run>',
    );
  });
});
