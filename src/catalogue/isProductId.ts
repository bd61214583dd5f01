/** Provider product and price ids: 1–200 visible ASCII characters, kept as strings. */
export const PRODUCT_ID_PATTERN = /^[\x21-\x7e]{1,200}$/;

/** Whether `value` can be a provider's product or price id in the catalogue. */
export function isProductId(value: unknown): value is string {
  return typeof value === "string" && PRODUCT_ID_PATTERN.test(value);
}
