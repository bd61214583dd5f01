import type { Db } from "../storage/openDatabase.js";
import { withTransaction } from "../storage/withTransaction.js";
import { setProduct, type ProductInput } from "./setProduct.js";

/** Sets one catalogue line in its own transaction: what the CLI and the admin route call. */
export async function setCatalogueProduct(db: Db, input: ProductInput) {
  await withTransaction(db, (trx) => setProduct(trx, input));
  return { provider: input.provider, productId: input.productId, pointsPerUnit: input.pointsPerUnit, name: input.name ?? null };
}
