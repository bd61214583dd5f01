import { z } from "zod";
import { isProductId } from "../../catalogue/isProductId.js";
import { setCatalogueProduct } from "../../catalogue/setCatalogueProduct.js";
import { PROVIDERS, type Provider } from "../../providers/PaymentEvent.js";
import { AppError } from "../errors.js";
import { parseBody, Points } from "../input.js";
import { actorOf, type RouteDef } from "../RouteDef.js";

const ProductBody = z.strictObject({
  pointsPerUnit: Points,
  name: z.string().trim().min(1).max(200).optional(),
});

function parseProvider(value: unknown): Provider {
  if (typeof value !== "string" || !PROVIDERS.includes(value as Provider)) {
    throw new AppError("invalid_provider", `provider must be one of ${PROVIDERS.join(", ")}`);
  }
  return value as Provider;
}

function parseProductId(value: unknown): string {
  if (!isProductId(value)) {
    throw new AppError("invalid_product_id", "product id must be 1-200 visible ASCII characters");
  }
  return value;
}

export const productRoutes: RouteDef[] = [
  {
    method: "PUT",
    url: "/api/admin/products/:provider/:productId",
    access: ["admin"],
    summary: "Set how many points a provider's product grants per unit",
    schema: { body: ProductBody },
    errors: ["invalid_provider", "invalid_product_id"],
    async handle(request, context) {
      const params = request.params as { provider?: unknown; productId?: unknown };
      const provider = parseProvider(params.provider);
      const productId = parseProductId(params.productId);
      const body = parseBody(ProductBody, request.body);
      const product = await setCatalogueProduct(context.db, {
        provider,
        productId,
        pointsPerUnit: body.pointsPerUnit,
        name: body.name ?? null,
        actor: actorOf(context),
        now: context.now(),
      });
      return { status: 200, body: { product } };
    },
  },
];
