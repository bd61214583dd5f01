import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from "jose";

/**
 * A real OIDC issuer on loopback for tests: generated keys, a discovery document and
 * a JWKS route on 127.0.0.1 with an OS-chosen port. It signs tokens the way Google or
 * Kubernetes would, and can rotate its keys while a Reckon instance is running.
 */

interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export interface LocalOidcIssuer {
  issuer: string;
  jwksUrl: string;
  /** How many times the JWKS route was read. */
  jwksFetches(): number;
  /** A signed token; claims default to a valid, current token for `audience`. */
  sign(claims: JWTPayload, options?: { kid?: string; alg?: "RS256" | "ES256"; key?: SigningKey }): Promise<string>;
  /** Publishes a new key and stops publishing the old ones; returns the new key. */
  rotate(): Promise<SigningKey>;
  /** A key the issuer never publishes (same kid scheme), for forged tokens. */
  strayKey(): Promise<SigningKey>;
  currentKey(): SigningKey;
  close(): Promise<void>;
}

async function newKey(alg: "RS256" | "ES256"): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomBytes(8).toString("hex");
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { kid, alg, privateKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export async function startLocalOidcIssuer(options: { alg?: "RS256" | "ES256" } = {}): Promise<LocalOidcIssuer> {
  const alg = options.alg ?? "RS256";
  let keys: SigningKey[] = [await newKey(alg)];
  let fetches = 0;
  let issuer = "";
  const server: Server = createServer((request, response) => {
    if (request.url === "/.well-known/openid-configuration") {
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: [alg] }));
      return;
    }
    if (request.url === "/jwks") {
      fetches += 1;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ keys: keys.map((key) => key.publicJwk) }));
      return;
    }
    response.statusCode = 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    jwksFetches: () => fetches,
    currentKey: () => keys[keys.length - 1]!,
    async sign(claims, signOptions = {}) {
      const key = signOptions.key ?? keys[keys.length - 1]!;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: signOptions.alg ?? key.alg, kid: signOptions.kid ?? key.kid, typ: "JWT" })
        .sign(key.privateKey);
    },
    async rotate() {
      const next = await newKey(alg);
      keys = [next];
      return next;
    },
    strayKey: () => newKey(alg),
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** Standard claims of a valid token at `now`, like a Cloud Scheduler OIDC token. */
export function validClaims(issuer: string, audience: string, now: Date, extra: JWTPayload = {}): JWTPayload {
  const seconds = Math.floor(now.getTime() / 1000);
  return { iss: issuer, aud: audience, sub: "scheduler-subject", iat: seconds - 10, exp: seconds + 3600, ...extra };
}

/** An `alg: none` token: header and payload with an empty signature. */
export function unsignedToken(payload: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

/** The classic confusion attack: HS256 "signed" with the issuer's public key as the secret. */
export async function hs256WithPublicKey(payload: JWTPayload, key: SigningKey): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "JWT" })
    .sign(new TextEncoder().encode(key.publicPem));
}

/** The same token with one payload claim changed and the original signature kept. */
export function tamperPayload(token: string, change: JWTPayload): string {
  const [header, payload, signature] = token.split(".");
  const claims = JSON.parse(Buffer.from(payload!, "base64url").toString("utf8")) as JWTPayload;
  const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString("base64url");
  return `${header}.${forged}.${signature}`;
}
