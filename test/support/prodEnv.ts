import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The least a prod process accepts: job callers authenticated by OIDC, and every
 * secret mounted as a file (written here, at test time, into a temporary folder).
 */
export function prodEnv(secrets: Record<string, string> = {}, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    ENVIRONMENT: "prod",
    OIDC_ISSUER: "https://issuer.example",
    OIDC_AUDIENCE: "https://reckon.example/api/jobs",
    OIDC_JOB_SUBJECTS: "scheduler",
    ...extra,
  };
  const entries = Object.entries(secrets);
  if (entries.length > 0) {
    const dir = mkdtempSync(join(tmpdir(), "reckon-prod-secrets-"));
    for (const [name, value] of entries) {
      const path = join(dir, name);
      writeFileSync(path, value);
      env[`${name}_FILE`] = path;
    }
  }
  return env;
}
