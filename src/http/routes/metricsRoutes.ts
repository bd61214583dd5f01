import { scrapeMetrics } from "../../ops/scrapeMetrics.js";
import type { RouteDef } from "../RouteDef.js";

export const metricsRoutes: RouteDef[] = [
  {
    method: "GET",
    url: "/metrics",
    access: "public",
    async handle(_request, context) {
      const scraped = await scrapeMetrics(context.db);
      return { status: 200, body: scraped.text, headers: { "content-type": scraped.contentType } };
    },
  },
];
