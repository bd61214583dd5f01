/**
 * The products a proof run sells: points per unit and price per unit in minor units.
 * Prices that do not divide the points evenly make partial refunds round.
 */
export interface Product {
  provider: "paynow" | "stripe";
  productId: string;
  pointsPerUnit: number;
  unitPriceMinor: number;
}

export const PRODUCTS: readonly Product[] = [
  { provider: "paynow", productId: "proof_pn_10", pointsPerUnit: 10, unitPriceMinor: 300 },
  { provider: "paynow", productId: "proof_pn_7", pointsPerUnit: 7, unitPriceMinor: 250 },
  { provider: "stripe", productId: "price_proof_25", pointsPerUnit: 25, unitPriceMinor: 1000 },
  { provider: "stripe", productId: "price_proof_3", pointsPerUnit: 3, unitPriceMinor: 199 },
];

export function pointsPerUnit(provider: string, productId: string): number | undefined {
  return PRODUCTS.find((product) => product.provider === provider && product.productId === productId)?.pointsPerUnit;
}
