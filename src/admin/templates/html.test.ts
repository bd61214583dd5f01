import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDelta, formatPoints } from "./format.js";
import { html, jsonBlock } from "./html.js";

/** The model of an HTML text node's reading: the five entities back to their characters, `&amp;` last. */
const readAsText = (markup: string) =>
  markup.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&amp;", "&");

describe("page templates", () => {
  it("any text from the database is shown as itself and can never open a tag or leave an attribute", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        const markup = html`<td title="${text}">${text}</td>`.text;
        const inner = markup.slice('<td title="'.length, -"</td>".length);
        const [attribute, body] = [inner.slice(0, inner.indexOf('">')), inner.slice(inner.indexOf('">') + 2)];
        expect(attribute).not.toMatch(/[<>"']/);
        expect(body).not.toMatch(/[<>"']/);
        expect(readAsText(attribute)).toBe(text);
        expect(readAsText(body)).toBe(text);
      }),
    );
  });

  it("embedded chart JSON never closes its script element and parses back to the same figures", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const block = jsonBlock(value).text;
        expect(block.toLowerCase()).not.toContain("</script");
        expect(JSON.parse(block)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it("every integer within ±10^15 is shown with all its digits, grouped by three, with a real minus sign", () => {
    const limit = 1_000_000_000_000_000;
    fc.assert(
      fc.property(fc.integer({ min: -limit, max: limit }), (value) => {
        const shown = formatPoints(value);
        expect(shown.replaceAll("\u2009", "").replace("\u2212", "-")).toBe(String(value));
        expect(shown.replace("\u2212", "")).toMatch(/^\d{1,3}(\u2009\d{3})*$/);
        expect(formatDelta(value).startsWith(value > 0 ? "+" : value < 0 ? "\u2212" : "0")).toBe(true);
      }),
    );
  });
});
