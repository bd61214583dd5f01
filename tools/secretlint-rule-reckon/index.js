import { findSecrets } from "./findSecrets.js";
import { RULES } from "./rules.js";

/**
 * secretlint preset with one rule per kind of secret Reckon handles that the
 * recommended preset does not know (rules.js lists them). A rule can be turned off in
 * `.secretlintrc.json` by its id, e.g. `@reckon/secretlint-rule-reckon/paynow-api-key`.
 */

export const PRESET_ID = "@reckon/secretlint-rule-reckon";

/** The secretlint id of one of Reckon's rules. */
export const ruleIdOf = (id) => `${PRESET_ID}/${id}`;

function toSecretlintRule(rule) {
  const messageId = rule.id.toUpperCase().replaceAll("-", "_");
  const messages = { [messageId]: { en: () => rule.message } };
  return {
    messages,
    meta: {
      id: ruleIdOf(rule.id),
      recommended: true,
      type: "scanner",
      supportedContentTypes: ["text"],
      docs: { url: `docs/security.md#${rule.id}` },
    },
    create(context) {
      const t = context.createTranslator(messages);
      return {
        file(source) {
          for (const range of findSecrets(rule, source.content)) context.report({ message: t(messageId), range });
        },
      };
    },
  };
}

export const rules = RULES.map(toSecretlintRule);

export const creator = {
  meta: { id: PRESET_ID, recommended: true, type: "preset" },
  rules,
  create(context) {
    for (const rule of rules) context.registerRule(rule);
  },
};

export default creator;
