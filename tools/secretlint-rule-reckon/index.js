import { looksReal, PAYNOW_API_KEY, SECRET_ASSIGNMENT, SERVICE_ACCOUNT_JSON } from "./patterns.js";

/**
 * secretlint rule for the secrets Reckon handles that the recommended preset does
 * not know: PayNow API keys, secret-named assignments with real-looking values, and
 * Google service-account key files.
 */

const messages = {
  PAYNOW_API_KEY: { en: () => "found a PayNow API key (pnapi_v…)" },
  SECRET_ASSIGNMENT: { en: () => "found a secret-named variable (*_SECRET, *_TOKEN, *_API_KEY, *_PASSWORD) assigned a real-looking value; mount it as a file instead" },
  SERVICE_ACCOUNT_JSON: { en: () => "found a Google service-account key (type service_account with a private_key)" },
};

export const creator = {
  messages,
  meta: {
    id: "@reckon/secretlint-rule-reckon",
    recommended: true,
    type: "scanner",
    supportedContentTypes: ["text"],
    docs: { url: "docs/decisions/secret-scanning.md" },
  },
  create(context) {
    const t = context.createTranslator(messages);
    return {
      file(source) {
        const content = source.content;
        for (const match of content.matchAll(PAYNOW_API_KEY)) {
          context.report({ message: t("PAYNOW_API_KEY"), range: [match.index, match.index + match[0].length] });
        }
        for (const match of content.matchAll(SECRET_ASSIGNMENT)) {
          const value = match[2];
          if (!looksReal(value)) continue;
          const start = match.index + match[0].length - value.length;
          context.report({ message: t("SECRET_ASSIGNMENT"), range: [start, start + value.length] });
        }
        for (const match of content.matchAll(SERVICE_ACCOUNT_JSON)) {
          context.report({ message: t("SERVICE_ACCOUNT_JSON"), range: [match.index, match.index + match[0].length] });
        }
      },
    };
  },
};

export default creator;
