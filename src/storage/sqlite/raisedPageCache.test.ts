import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULT_CACHE_KIB, openDatabase, type Db } from "../openDatabase.js";

const dir = mkdtempSync(join(tmpdir(), "reckon-cache-"));
const opened: Db[] = [];
afterAll(async () => {
  for (const db of opened) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function open(name: string, cacheKiB?: number): Db {
  const db = openDatabase(`file:${join(dir, name)}`, { writerThread: false, ...(cacheKiB === undefined ? {} : { cacheKiB }) });
  opened.push(db);
  return db;
}

const cacheSize = (db: Db) => db.sqlite!.pragma("cache_size", { simple: true });

/** A promise settled from outside, to hold a piece of work open while the test looks. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe("SQLite page cache sizes [sqlite]", () => {
  it("a connection has the serving cache unless it is given a size, and then has that size", () => {
    expect(cacheSize(open("default.db"))).toBe(-DEFAULT_CACHE_KIB);
    expect(cacheSize(open("given.db", 3000))).toBe(-3000);
  });

  it("work with a larger cache runs with it, and the connection's own size is set back after, even when the work fails", async () => {
    const db = open("raised.db", 4096);
    let during: unknown;
    expect(await db.engine.withPageCache(65_536, async () => (during = cacheSize(db), "done"))).toBe("done");
    expect(during).toBe(-65_536);
    expect(cacheSize(db)).toBe(-4096);

    await expect(
      db.engine.withPageCache(65_536, async () => {
        during = cacheSize(db);
        throw new Error("the work broke");
      }),
    ).rejects.toThrow("the work broke");
    expect(during).toBe(-65_536);
    expect(cacheSize(db)).toBe(-4096);
  });

  it("a connection whose own cache is larger keeps it; a size set in pages comes back in pages", async () => {
    const large = open("large.db", 131_072);
    await large.engine.withPageCache(65_536, async () => expect(cacheSize(large)).toBe(-131_072));
    expect(cacheSize(large)).toBe(-131_072);

    const pages = open("pages.db");
    pages.sqlite!.pragma("cache_size = 500");
    await pages.engine.withPageCache(65_536, async () => expect(cacheSize(pages)).toBe(-65_536));
    expect(cacheSize(pages)).toBe(500);
  });

  it("overlapping work keeps the largest size asked for until the last one ends", async () => {
    const db = open("overlap.db", 2048);
    const first = gate();
    const second = gate();
    const a = db.engine.withPageCache(65_536, () => first.opened);
    const b = db.engine.withPageCache(32_768, () => second.opened);
    expect(cacheSize(db)).toBe(-65_536);
    first.open();
    await a;
    expect(cacheSize(db)).toBe(-32_768);
    second.open();
    await b;
    expect(cacheSize(db)).toBe(-2048);
  });

  it("work still running when its database closes ends without an error of its own", async () => {
    const db = openDatabase(`file:${join(dir, "closing.db")}`, { writerThread: false, cacheKiB: 2048 });
    const held = gate();
    const work = db.engine.withPageCache(65_536, () => held.opened.then(() => "finished"));
    await db.close();
    held.open();
    expect(await work).toBe("finished");
  });
});
