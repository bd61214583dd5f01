import type { RouteDef } from "./RouteDef.js";
import { adminRoutes } from "./routes/adminRoutes.js";
import { healthRoutes } from "./routes/healthRoutes.js";
import { metricsRoutes } from "./routes/metricsRoutes.js";
import { reconcileRoutes } from "./routes/reconcileRoutes.js";
import { walletRoutes } from "./routes/walletRoutes.js";

/** Every route of the server, in one list: registration and the access-matrix test read it. */
export const ROUTES: readonly RouteDef[] = [
  ...healthRoutes,
  ...metricsRoutes,
  ...walletRoutes,
  ...adminRoutes,
  ...reconcileRoutes,
];
