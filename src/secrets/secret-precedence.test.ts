import { describe, expect, it } from 'vitest';
import type { SecretAddress, SecretLookup } from './secret.js';
import { mostSpecific, precedenceOf } from './secret-precedence.js';

const SHOP_PROD: SecretAddress = { name: 'DB', scope: 'shop', environment: 'prod' };
const SHOP: SecretAddress = { name: 'DB', scope: 'shop' };
const ALL_PROD: SecretAddress = { name: 'DB', scope: '*', environment: 'prod' };
const ALL: SecretAddress = { name: 'DB', scope: '*' };
const BILLING: SecretAddress = { name: 'DB', scope: 'billing' };
const SHOP_DEV: SecretAddress = { name: 'DB', scope: 'shop', environment: 'dev' };

describe('precedenceOf', () => {
  it.each<[SecretAddress, SecretLookup, number | undefined]>([
    [SHOP_PROD, { service: 'shop', environment: 'prod' }, 0],
    [SHOP, { service: 'shop', environment: 'prod' }, 1],
    [ALL_PROD, { service: 'shop', environment: 'prod' }, 2],
    [ALL, { service: 'shop', environment: 'prod' }, 3],
    [BILLING, { service: 'shop', environment: 'prod' }, undefined],
    [SHOP_DEV, { service: 'shop', environment: 'prod' }, undefined],
    [SHOP_PROD, { service: 'shop' }, undefined],
    [SHOP, { service: 'shop' }, 1],
    [ALL, { service: 'shop' }, 3],
    [SHOP, {}, undefined],
    [ALL_PROD, { environment: 'prod' }, 2],
    [ALL, {}, 3],
  ])('%j for %j: %j', (address, lookup, rank) => {
    expect(precedenceOf(address, lookup)).toBe(rank);
  });
});

describe('mostSpecific', () => {
  const everything = [ALL, BILLING, ALL_PROD, SHOP_DEV, SHOP, SHOP_PROD];

  it.each<[SecretLookup, SecretAddress[], SecretAddress | undefined]>([
    [{ service: 'shop', environment: 'prod' }, everything, SHOP_PROD],
    [{ service: 'shop', environment: 'prod' }, [ALL, ALL_PROD, SHOP], SHOP],
    [{ service: 'shop', environment: 'prod' }, [ALL, ALL_PROD], ALL_PROD],
    [{ service: 'shop', environment: 'staging' }, everything, SHOP],
    [{ service: 'shop' }, everything, SHOP],
    [{ service: 'billing', environment: 'prod' }, everything, BILLING],
    [{ service: 'cart', environment: 'prod' }, everything, ALL_PROD],
    [{ service: 'cart' }, everything, ALL],
    [{ service: 'cart' }, [BILLING, SHOP_DEV], undefined],
    [{}, [], undefined],
  ])('%j → %j', (lookup, candidates, winner) => {
    expect(mostSpecific(candidates, lookup)).toBe(winner);
  });
});
