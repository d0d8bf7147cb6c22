/** The shop's products; prices in cents so that totals never suffer from floating point. */
export const PRODUCTS = [
  { id: 'p-100', name: 'Phoenix mug', priceCents: 1200 },
  { id: 'p-200', name: 'Rollback T-shirt', priceCents: 2500 },
  { id: 'p-300', name: 'Canary sticker pack', priceCents: 400 },
];

export function findProduct(id) {
  return PRODUCTS.find((product) => product.id === id);
}

/** Total of a cart given as [{ id, quantity }]; throws on unknown products or bad quantities. */
export function cartTotal(items) {
  let total = 0;
  for (const { id, quantity } of items) {
    const product = findProduct(id);
    if (product === undefined) throw new RangeError(`unknown product ${id}`);
    if (!Number.isInteger(quantity) || quantity < 1) throw new RangeError(`bad quantity for ${id}`);
    total += product.priceCents * quantity;
  }
  return total;
}
