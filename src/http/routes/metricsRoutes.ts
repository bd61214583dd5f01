import { registry } from "../../ops/metrics.js";
import type { RouteDef } from "../RouteDef.js";

export const metricsRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/metrics",
    access: "public",
    async handle() {
      return {
        status: 200,
        body: await registry.metrics(),
        headers: { "content-type": registry.contentType },
      };
    },
  },
];
