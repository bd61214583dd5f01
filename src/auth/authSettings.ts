import { z } from "zod";

/**
 * The authentication part of the configuration: OIDC callers (jobs, and optionally
 * admins and services) and the auth-failure limiter. `config.ts` validates the
 * environment with these fields and calls `buildAuthConfig` on the result.
 */

/**
 * Only asymmetric algorithms: a verifier holding a public key must never accept a
 * token "signed" with that public key as an HMAC secret, nor an unsigned one.
 */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export type OidcAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** Google and Kubernetes both sign with RS256; ES256 is the common alternative. */
const DEFAULT_ALGORITHMS: OidcAlgorithm[] = ["RS256", "ES256"];

export const OIDC_ROLES = ["job", "admin", "service"] as const;
export type OidcRole = (typeof OIDC_ROLES)[number];

export interface OidcAllowlist {
  subjects: string[];
  /** Matched only when the token also says `email_verified: true`. */
  emails: string[];
}

export interface OidcConfig {
  issuer: string;
  audiences: string[];
  /** When absent, the keys are found through the issuer's discovery document. */
  jwksUrl?: string;
  clockSkewSeconds: number;
  algorithms: OidcAlgorithm[];
  roles: Record<OidcRole, OidcAllowlist>;
}

export interface AuthConfig {
  oidc?: OidcConfig;
  /** Per client address: this many failed authentications within the window get 429. */
  failureLimit: { maxFailures: number; windowSeconds: number };
}

const optionalText = z.string().optional();

export const AuthEnvFields = {
  OIDC_ISSUER: optionalText,
  OIDC_AUDIENCE: optionalText,
  OIDC_JWKS_URL: optionalText,
  OIDC_ALGORITHMS: optionalText,
  OIDC_CLOCK_SKEW_SECONDS: optionalText,
  OIDC_JOB_SUBJECTS: optionalText,
  OIDC_JOB_EMAILS: optionalText,
  OIDC_ADMIN_SUBJECTS: optionalText,
  OIDC_ADMIN_EMAILS: optionalText,
  OIDC_SERVICE_SUBJECTS: optionalText,
  OIDC_SERVICE_EMAILS: optionalText,
  AUTH_FAILURE_LIMIT: optionalText,
  AUTH_FAILURE_WINDOW_SECONDS: optionalText,
};

type AuthEnv = { [K in keyof typeof AuthEnvFields]?: string | undefined };

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function wholeNumber(name: string, value: string | undefined, fallback: number, min: number, max: number, problems: string[]) {
  if (value === undefined || value === "") return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    problems.push(`${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    return fallback;
  }
  return Number(value);
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** HTTPS, or plain HTTP on loopback only (a local issuer in tests and development). */
function keyUrl(name: string, value: string, problems: string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name}: not a URL`);
    return undefined;
  }
  if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return value;
  problems.push(`${name}: must be an https:// URL (http:// only on loopback)`);
  return undefined;
}

function algorithms(value: string | undefined, problems: string[]): OidcAlgorithm[] {
  const names = list(value);
  if (names.length === 0) return DEFAULT_ALGORITHMS;
  const allowed = new Set<string>(ASYMMETRIC_ALGORITHMS);
  const refused = names.filter((name) => !allowed.has(name));
  if (refused.length > 0) {
    problems.push(
      `OIDC_ALGORITHMS: ${refused.join(", ")} not allowed; use asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(", ")})`,
    );
  }
  return names.filter((name): name is OidcAlgorithm => allowed.has(name));
}

function buildOidc(env: AuthEnv, problems: string[]): OidcConfig | undefined {
  const roles: Record<OidcRole, OidcAllowlist> = {
    job: { subjects: list(env.OIDC_JOB_SUBJECTS), emails: list(env.OIDC_JOB_EMAILS) },
    admin: { subjects: list(env.OIDC_ADMIN_SUBJECTS), emails: list(env.OIDC_ADMIN_EMAILS) },
    service: { subjects: list(env.OIDC_SERVICE_SUBJECTS), emails: list(env.OIDC_SERVICE_EMAILS) },
  };
  const anyListed = OIDC_ROLES.some((role) => roles[role].subjects.length + roles[role].emails.length > 0);
  if (!env.OIDC_ISSUER) {
    const stray = (Object.keys(AuthEnvFields) as (keyof AuthEnv)[]).filter(
      (name) => name.startsWith("OIDC_") && env[name] !== undefined && env[name] !== "",
    );
    if (stray.length > 0) problems.push(`${stray.join(", ")} set without OIDC_ISSUER; set OIDC_ISSUER too`);
    return undefined;
  }
  // A bad URL is listed as a problem; the issuer is still returned so no second, misleading problem follows.
  const issuer = keyUrl("OIDC_ISSUER", env.OIDC_ISSUER, problems) ?? env.OIDC_ISSUER;
  const jwksUrl = env.OIDC_JWKS_URL ? keyUrl("OIDC_JWKS_URL", env.OIDC_JWKS_URL, problems) : undefined;
  const audiences = list(env.OIDC_AUDIENCE);
  if (audiences.length === 0) problems.push("OIDC_AUDIENCE: required with OIDC_ISSUER (the audience your callers request)");
  if (!anyListed) {
    problems.push("OIDC_ISSUER is set but no caller is allowed: set OIDC_JOB_SUBJECTS or OIDC_JOB_EMAILS (and/or the ADMIN/SERVICE lists)");
  }
  const clockSkewSeconds = wholeNumber("OIDC_CLOCK_SKEW_SECONDS", env.OIDC_CLOCK_SKEW_SECONDS, 60, 0, 300, problems);
  const algs = algorithms(env.OIDC_ALGORITHMS, problems);
  return { issuer, audiences, ...(jwksUrl ? { jwksUrl } : {}), clockSkewSeconds, algorithms: algs, roles };
}

export function buildAuthConfig(env: AuthEnv, problems: string[]): AuthConfig {
  const oidc = buildOidc(env, problems);
  return {
    ...(oidc ? { oidc } : {}),
    failureLimit: {
      maxFailures: wholeNumber("AUTH_FAILURE_LIMIT", env.AUTH_FAILURE_LIMIT, 20, 1, 1_000_000, problems),
      windowSeconds: wholeNumber("AUTH_FAILURE_WINDOW_SECONDS", env.AUTH_FAILURE_WINDOW_SECONDS, 60, 1, 86_400, problems),
    },
  };
}

/** True when some caller can hold the job role. */
export function jobAuthConfigured(auth: AuthConfig): boolean {
  const job = auth.oidc?.roles.job;
  return job !== undefined && job.subjects.length + job.emails.length > 0;
}
