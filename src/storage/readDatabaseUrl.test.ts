import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { openDatabase } from "./openDatabase.js";
import { maskDatabaseUrl, readDatabaseUrl } from "./readDatabaseUrl.js";

const piece = () => randomBytes(6).toString("hex");

/** Every way a password can sit in a URL, with characters that broke the old masking. */
function spellings(password: string): { name: string; url: string; masked: string }[] {
  const masked = "postgres://reckon:***@db.internal:5432/reckon";
  const forms = [
    { name: "percent-encoded in user:password@", url: `postgres://reckon:${encodeURIComponent(password)}@db.internal:5432/reckon`, masked },
    { name: "in ?password=", url: `postgres://reckon@db.internal:5432/reckon?password=${encodeURIComponent(password)}&sslmode=disable`, masked: `${masked}?sslmode=disable` },
  ];
  // A raw `/` ends the authority: such a URL is unreadable (refused by config), not a spelling.
  if (!password.includes("/")) forms.push({ name: "raw in user:password@", url: `postgres://reckon:${password}@db.internal:5432/reckon`, masked });
  return forms;
}

describe("a printed database URL never holds its password", () => {
  for (const separator of ["@", ":", "/", "%40", "@@"]) {
    const [a, b] = [piece(), piece()];
    for (const form of spellings(`${a}${separator}${b}`)) {
      it(`a password with ${JSON.stringify(separator)}, ${form.name}`, async () => {
        const db = openDatabase(form.url, { poolSize: 1 });
        try {
          expect(db.displayUrl).toBe(form.masked);
          expect(db.displayUrl).not.toContain(a);
          expect(db.displayUrl).not.toContain(b);
        } finally {
          await db.close();
        }
      });
    }
  }

  it("any password, in any spelling, prints as *** and nothing else of it", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: "binary" }), (password) => {
        for (const form of spellings(password).slice(0, 2)) expect(maskDatabaseUrl(form.url)).toBe(form.masked);
      }),
      { numRuns: 200 },
    );
  });

  it("values of query parameters it does not know are masked too", () => {
    const secret = piece();
    expect(maskDatabaseUrl(`postgres://reckon@db.internal/reckon?sslpassword=${secret}&application_name=reckon`)).toBe(
      "postgres://reckon@db.internal/reckon?sslpassword=***&application_name=reckon",
    );
  });

  it("an unreadable URL prints as a placeholder, never as itself", () => {
    const secret = piece();
    const read = readDatabaseUrl(`postgres://reckon:${secret}/x@db.internal/reckon`);
    expect(read.engine).toBe("unreadable");
    expect(read.masked).toBe("postgres://[unreadable URL]");
  });

  it("a SQLite path is printed as given (it holds no secret)", () => {
    expect(maskDatabaseUrl("file:./data/reckon-test.db")).toBe("file:./data/reckon-test.db");
  });

  it("a password given apart from the URL reaches the pool, not the printed URL", async () => {
    const password = piece();
    const db = openDatabase("postgres://reckon@db.internal:5432/reckon", { poolSize: 1, password });
    try {
      expect((db.pool!.options as { password?: unknown }).password).toBe(password);
      expect(db.displayUrl).toBe("postgres://reckon@db.internal:5432/reckon");
    } finally {
      await db.close();
    }
  });
});
