import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENGINES } from "../../../test/support/testDatabase.js";
import { openDatabase } from "../openDatabase.js";
import { WalSync, walPathOf } from "./walSync.js";

const NORMAL = 1;
const FULL = 2;

describe.runIf(ENGINES.includes("sqlite"))("the log of a connection whose caller fsyncs it [sqlite]", () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), "reckon-wal-sync-"));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it("commits without fsync only on a connection opened with callerFsyncsLog; every other commits with FULL", async () => {
    const url = `file:${join(folder, "pragma.sqlite")}`;
    const callerFsyncs = openDatabase(url, { writerThread: false, callerFsyncsLog: true });
    const own = openDatabase(url, { writerThread: false });
    try {
      expect(callerFsyncs.sqlite!.pragma("synchronous", { simple: true })).toBe(NORMAL);
      expect(own.sqlite!.pragma("synchronous", { simple: true })).toBe(FULL);
    } finally {
      await callerFsyncs.close();
      await own.close();
    }
  });

  it("fsyncs the log SQLite writes, also when the database is opened through a symbolic link", async () => {
    const file = join(folder, "real.sqlite");
    const link = join(folder, "linked.sqlite");
    const real = openDatabase(`file:${file}`, { writerThread: false });
    real.sqlite!.exec("create table kept (id integer primary key)");
    await real.close();
    symlinkSync(file, link);
    const linked = openDatabase(`file:${link}`, { writerThread: false, callerFsyncsLog: true });
    const walSync = WalSync.ofFile(walPathOf(link));
    try {
      linked.sqlite!.exec("insert into kept (id) values (1)");
      expect(walPathOf(link)).toBe(`${realpathSync(file)}-wal`);
      expect(existsSync(walPathOf(link))).toBe(true);
      // Opening a log that is not there would reject with a WalSyncError.
      await expect(walSync.sync()).resolves.toBeUndefined();
    } finally {
      await walSync.close();
      await linked.close();
    }
  });
});
