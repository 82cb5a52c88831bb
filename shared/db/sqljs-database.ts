import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import type { BindParams, Database, SqlValue } from 'sql.js';

/**
 * sql.js (SQLite compiled to WebAssembly) behind the better-sqlite3 shape that Kysely's SqliteDialect
 * expects. Chosen over better-sqlite3 because it needs no native build or prebuilt binary download.
 * The database lives in memory and is written to its file atomically shortly after each committed
 * change (and on close); a crash loses at most the last `persistDelayMs` of writes, never a half-written
 * transaction, because a snapshot is only taken outside a transaction.
 */
export interface EmbeddedDatabase extends SqliteDatabase {
  flush(): void;
}

export async function openEmbeddedDatabase(
  file: string | null,
  options: { persistDelayMs?: number } = {},
): Promise<EmbeddedDatabase> {
  // Imported here, not at the top: function bundles leave sql.js out and must load without it.
  const { default: initSqlJs } = await import('sql.js');
  const SQL = await initSqlJs();
  let initial: Uint8Array | undefined;
  if (file) {
    try {
      initial = readFileSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const db: Database = new SQL.Database(initial);
  db.run('PRAGMA foreign_keys = ON');
  const persistDelayMs = options.persistDelayMs ?? 200;
  let inTransaction = false;
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = () => {
    if (!file || !dirty || closed) return;
    if (inTransaction) {
      schedule();
      return;
    }
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, db.export());
    renameSync(tmp, file);
    dirty = false;
  };
  const schedule = () => {
    if (!file || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      flush();
    }, persistDelayMs);
    timer.unref();
  };

  const track = (sql: string) => {
    const head = sql.trimStart().slice(0, 8).toLowerCase();
    if (head.startsWith('begin') || head.startsWith('savepoin')) inTransaction = true;
    else if (head.startsWith('commit') || head.startsWith('rollback') || head.startsWith('end')) {
      inTransaction = false;
    }
  };

  const toParams = (parameters: ReadonlyArray<unknown>): BindParams =>
    parameters.map((p): SqlValue => {
      if (typeof p === 'boolean') return p ? 1 : 0;
      if (typeof p === 'bigint') return Number(p);
      if (p === undefined) return null;
      return p as SqlValue;
    });

  const prepare = (sql: string): SqliteStatement => {
    const probe = db.prepare(sql);
    const reader = probe.getColumnNames().length > 0;
    probe.free();
    const all = (parameters: ReadonlyArray<unknown>) => {
      const stmt = db.prepare(sql);
      try {
        stmt.bind(toParams(parameters));
        const rows: unknown[] = [];
        while (stmt.step()) rows.push(stmt.getAsObject());
        return rows;
      } finally {
        stmt.free();
      }
    };
    return {
      reader,
      all,
      run(parameters) {
        track(sql);
        db.run(sql, toParams(parameters));
        const changes = db.getRowsModified();
        const idRow = db.exec('select last_insert_rowid()')[0]?.values[0]?.[0];
        if (!reader) {
          dirty = true;
          schedule();
        }
        return { changes, lastInsertRowid: typeof idRow === 'number' ? idRow : 0 };
      },
      iterate(parameters) {
        return all(parameters)[Symbol.iterator]();
      },
    };
  };

  return {
    prepare,
    flush,
    close() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      inTransaction = false;
      flush();
      closed = true;
      db.close();
    },
  };
}
