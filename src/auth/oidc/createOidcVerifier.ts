import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from "jose";
import { OIDC_ROLES, type OidcConfig, type OidcRole } from "../authSettings.js";
import { createKeySource, KeysUnavailableError, type KeySourceOptions } from "./createKeySource.js";

/**
 * Verifies OIDC bearer JWTs (Google Cloud Scheduler, Kubernetes service accounts, any
 * issuer with a JWKS): signature against the issuer's keys, iss, aud, exp/nbf/iat with
 * the configured skew, an asymmetric algorithm allowlist, and a subject/email allowlist
 * that decides the caller's roles. Every refusal has its own code.
 */

export type OidcRejection =
  | "oidc_malformed_token"
  | "oidc_unsigned_token"
  | "oidc_algorithm_not_allowed"
  | "oidc_invalid_signature"
  | "oidc_unknown_key"
  | "oidc_issuer_mismatch"
  | "oidc_audience_mismatch"
  | "oidc_token_expired"
  | "oidc_token_not_yet_valid"
  | "oidc_missing_claim"
  | "oidc_invalid_claims"
  | "oidc_subject_not_allowed"
  | "oidc_email_not_verified";

export type OidcOutcome =
  /** Passes authentication; the route's access decides 403 from `roles`. */
  | { outcome: "verified"; subject: string; email?: string; roles: OidcRole[] }
  /** 401 with `code`. */
  | { outcome: "rejected"; code: OidcRejection; message: string }
  /** 503: the issuer's keys could not be read; the caller is not at fault. */
  | { outcome: "keys_unavailable"; message: string };

export interface OidcVerifier {
  verify(token: string, now: Date): Promise<OidcOutcome>;
}

const reject = (code: OidcRejection, message: string): OidcOutcome => ({ outcome: "rejected", code, message });

function rejectClaim(error: errors.JWTClaimValidationFailed): OidcOutcome {
  if (error.reason === "missing") return reject("oidc_missing_claim", `the token has no "${error.claim}" claim`);
  switch (error.claim) {
    case "iss":
      return reject("oidc_issuer_mismatch", "the token was issued by another issuer");
    case "aud":
      return reject("oidc_audience_mismatch", "the token was issued for another audience");
    case "nbf":
    case "iat":
      return reject("oidc_token_not_yet_valid", "the token is not valid yet");
    default:
      return reject("oidc_invalid_claims", `the token's "${error.claim}" claim is not valid`);
  }
}

/** Maps what jose throws to an outcome; anything unexpected is a bug and rethrown. */
function classify(error: unknown): OidcOutcome {
  if (error instanceof KeysUnavailableError) return { outcome: "keys_unavailable", message: error.message };
  if (error instanceof errors.JWTExpired) return reject("oidc_token_expired", "the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) return rejectClaim(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) return reject("oidc_invalid_signature", "the token's signature does not verify");
  if (error instanceof errors.JWKSNoMatchingKey) return reject("oidc_unknown_key", "the token names a key the issuer does not publish");
  if (error instanceof errors.JOSEAlgNotAllowed) return reject("oidc_algorithm_not_allowed", "the token's algorithm is not allowed");
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return reject("oidc_malformed_token", "the token is not a well-formed JWT");
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof errors.JOSEError) {
    return { outcome: "keys_unavailable", message: "the issuer's keys could not be read" };
  }
  if (error instanceof TypeError) return { outcome: "keys_unavailable", message: "the issuer's keys could not be fetched" };
  throw error;
}

/** Which roles the verified claims earn; an email counts only when the issuer verified it. */
function rolesOf(config: OidcConfig, payload: JWTPayload): { roles: OidcRole[]; emailUnverified: boolean } {
  const subject = payload.sub ?? "";
  const email = typeof payload.email === "string" ? payload.email.toLowerCase() : undefined;
  const emailVerified = payload.email_verified === true;
  let emailUnverified = false;
  const roles = OIDC_ROLES.filter((role) => {
    const allow = config.roles[role];
    if (allow.subjects.includes(subject)) return true;
    const listed = email !== undefined && allow.emails.some((item) => item.toLowerCase() === email);
    if (listed && !emailVerified) emailUnverified = true;
    return listed && emailVerified;
  });
  return { roles, emailUnverified };
}

export function createOidcVerifier(config: OidcConfig, options: KeySourceOptions = {}): OidcVerifier {
  const keySource = createKeySource(config, options);
  const allowed = new Set<string>(config.algorithms);
  return {
    async verify(token, now) {
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        return reject("oidc_malformed_token", "the token is not a well-formed JWT");
      }
      if (typeof alg !== "string" || alg.toLowerCase() === "none") return reject("oidc_unsigned_token", "the token is not signed");
      if (!allowed.has(alg)) return reject("oidc_algorithm_not_allowed", `the ${alg.slice(0, 16)} algorithm is not allowed`);
      let payload: JWTPayload;
      try {
        const keys = await keySource.keys();
        ({ payload } = await jwtVerify(token, keys, {
          issuer: config.issuer,
          audience: config.audiences,
          algorithms: config.algorithms,
          clockTolerance: config.clockSkewSeconds,
          currentDate: now,
          requiredClaims: ["exp", "iat", "sub"],
        }));
      } catch (error) {
        return classify(error);
      }
      // jose checks iat only against a maximum age; a token from the future is not valid yet either.
      if (typeof payload.iat === "number" && payload.iat > now.getTime() / 1000 + config.clockSkewSeconds) {
        return reject("oidc_token_not_yet_valid", "the token was issued in the future");
      }
      const { roles, emailUnverified } = rolesOf(config, payload);
      if (roles.length === 0) {
        return emailUnverified
          ? reject("oidc_email_not_verified", "the token's email is not verified by the issuer")
          : reject("oidc_subject_not_allowed", "the token's subject is not allowed to call Reckon");
      }
      const email = typeof payload.email === "string" ? payload.email : undefined;
      return { outcome: "verified", subject: payload.sub!, ...(email ? { email } : {}), roles };
    },
  };
}
