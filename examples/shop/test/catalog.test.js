import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cartTotal, findProduct } from '../src/catalog.js';

test('finds a product by id', () => {
  assert.equal(findProduct('p-100')?.name, 'Phoenix mug');
});

test('totals a cart in cents', () => {
  assert.equal(
    cartTotal([
      { id: 'p-100', quantity: 2 },
      { id: 'p-300', quantity: 1 },
    ]),
    2800,
  );
});

test('refuses unknown products and bad quantities', () => {
  assert.throws(() => cartTotal([{ id: 'nope', quantity: 1 }]), /unknown product/);
  assert.throws(() => cartTotal([{ id: 'p-100', quantity: 0 }]), /bad quantity/);
});
