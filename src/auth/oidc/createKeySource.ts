import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import type { OidcConfig } from "../authSettings.js";

/**
 * Where an issuer's signing keys come from: the explicit OIDC_JWKS_URL, or the
 * `jwks_uri` of the issuer's discovery document. jose's remote key set caches the
 * keys, refetches when a token names an unknown `kid`, and refetches at most once per
 * cooldown however many unknown kids arrive, so forged kids cannot flood the issuer.
 */

export interface KeySourceOptions {
  /** Least time between two refetches caused by unknown kids. */
  jwksCooldownMs?: number;
  /** Keys older than this are refetched before use even when the kid is known. */
  jwksMaxAgeMs?: number;
  /** Per HTTP request to the issuer. */
  fetchTimeoutMs?: number;
}

export class KeysUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeysUnavailableError";
  }
}

export interface KeySource {
  /** The key getter for `jwtVerify`; throws KeysUnavailableError when the issuer cannot be read. */
  keys(): Promise<JWTVerifyGetKey>;
}

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

function acceptableKeyUrl(value: unknown): URL | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const url = new URL(value);
    if (url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) return url;
  } catch {
    return undefined;
  }
  return undefined;
}

async function discoverJwksUrl(issuer: string, timeoutMs: number): Promise<URL> {
  const discovery = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetch(discovery, { signal: AbortSignal.timeout(timeoutMs), redirect: "error" });
  } catch {
    throw new KeysUnavailableError("the issuer's discovery document could not be fetched");
  }
  if (!response.ok) throw new KeysUnavailableError(`the issuer's discovery document answered ${response.status}`);
  const document = (await response.json().catch(() => undefined)) as { issuer?: unknown; jwks_uri?: unknown } | undefined;
  // A discovery document for another issuer would let that issuer's keys sign for ours.
  if (document?.issuer !== issuer) throw new KeysUnavailableError("the discovery document names another issuer");
  const jwksUrl = acceptableKeyUrl(document.jwks_uri);
  if (!jwksUrl) throw new KeysUnavailableError("the discovery document has no usable jwks_uri");
  return jwksUrl;
}

export function createKeySource(config: OidcConfig, options: KeySourceOptions = {}): KeySource {
  const cooldownDuration = options.jwksCooldownMs ?? 30_000;
  const timeoutDuration = options.fetchTimeoutMs ?? 5_000;
  const makeSet = (url: URL) =>
    createRemoteJWKSet(url, { cooldownDuration, timeoutDuration, cacheMaxAge: options.jwksMaxAgeMs ?? 600_000 });

  let keySet: JWTVerifyGetKey | undefined = config.jwksUrl ? makeSet(new URL(config.jwksUrl)) : undefined;
  let pending: Promise<JWTVerifyGetKey> | undefined;
  let lastFailureMs = Number.NEGATIVE_INFINITY;

  return {
    async keys() {
      if (keySet) return keySet;
      // A failed discovery is retried at most once per cooldown, like an unknown kid.
      if (Date.now() - lastFailureMs < cooldownDuration) {
        throw new KeysUnavailableError("the issuer's discovery document could not be read recently; retrying later");
      }
      pending ??= discoverJwksUrl(config.issuer, timeoutDuration).then(
        (url) => {
          keySet = makeSet(url);
          pending = undefined;
          return keySet;
        },
        (error: unknown) => {
          lastFailureMs = Date.now();
          pending = undefined;
          throw error;
        },
      );
      return pending;
    },
  };
}
