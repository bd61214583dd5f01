import { recordAudit } from "../audit/recordAudit.js";
import type { Trx } from "../storage/withTransaction.js";

export interface ProductInput {
  provider: string;
  productId: string;
  pointsPerUnit: number;
  name?: string | null;
  actor: string;
  now: Date;
}

/** Creates or changes one catalogue line (`product -> points per unit`), audited. */
export async function setProduct(trx: Trx, input: ProductInput): Promise<void> {
  const previous = await trx
    .selectFrom("products")
    .select(["points_per_unit", "name"])
    .where("provider", "=", input.provider)
    .where("product_id", "=", input.productId)
    .executeTakeFirst();
  const now = input.now.toISOString();
  await trx
    .insertInto("products")
    .values({
      provider: input.provider,
      product_id: input.productId,
      points_per_unit: input.pointsPerUnit,
      name: input.name ?? null,
      updated_at: now,
    })
    .onConflict((conflict) =>
      conflict.columns(["provider", "product_id"]).doUpdateSet({
        points_per_unit: input.pointsPerUnit,
        name: input.name ?? null,
        updated_at: now,
      }),
    )
    .execute();
  await recordAudit(trx, {
    actor: input.actor,
    action: "product.set",
    subject: `${input.provider}:${input.productId}`,
    details: { before: previous ?? null, after: { points_per_unit: input.pointsPerUnit, name: input.name ?? null } },
    now: input.now,
  });
}
