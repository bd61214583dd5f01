import type { RouteDef } from "./RouteDef.js";
import { adminRoutes } from "./routes/adminRoutes.js";
import { flagRoutes } from "./routes/flagRoutes.js";
import { healthRoutes } from "./routes/healthRoutes.js";
import { metricsRoutes } from "./routes/metricsRoutes.js";
import { reconcileRoutes } from "./routes/reconcileRoutes.js";
import { walletRoutes } from "./routes/walletRoutes.js";
import { webhookRoutes } from "./routes/webhookRoutes.js";
import { backfillRoutes } from "./routes/backfillRoutes.js";
import { productRoutes } from "./routes/productRoutes.js";
import { providerFindingRoutes } from "./routes/providerFindingRoutes.js";
import { openApiRoute } from "./routes/openApiRoute.js";

/** Every route of the server, in one list: registration and the access-matrix test read it. */
export const ROUTES: readonly RouteDef[] = [
  ...healthRoutes,
  ...metricsRoutes,
  openApiRoute(() => ROUTES),
  ...walletRoutes,
  ...adminRoutes,
  ...webhookRoutes,
  ...productRoutes,
  ...backfillRoutes,
  ...flagRoutes,
  ...reconcileRoutes,
  ...providerFindingRoutes,
];
