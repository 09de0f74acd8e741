// SQL the runtime cannot run fails at compile (deploy) time with its line, column and construct.
import { describe, expect, it } from "vitest";
import { compile, SqlError } from "../lambdas/lib/streaming-sql";

const INPUTS = [{ name: "SOURCE_SQL_STREAM_001", columns: [{ name: "browseraction", sqlType: "VARCHAR(32)" }, { name: "n", sqlType: "INTEGER" }] }];
const OUT = 'CREATE OR REPLACE STREAM "OUT" ("X" DOUBLE);\n';
const pump = (select: string) => `${OUT}CREATE OR REPLACE PUMP "P" STARTED AS INSERT INTO "OUT"\n${select};`;

function compileError(sql: string): SqlError {
  try {
    compile(sql, { inputs: INPUTS });
  } catch (error) {
    expect(error).toBeInstanceOf(SqlError);
    return error as SqlError;
  }
  throw new Error("compiled, but should not have");
}

describe("compile errors name line, column and construct", () => {
  it.each([
    // [SQL, code, where the error must point (first occurrence), construct]
    [pump('SELECT STREAM CASE WHEN "n" > 1 THEN 1 ELSE 0 END FROM "SOURCE_SQL_STREAM_001"'), "SQL_UNSUPPORTED", "CASE", "CASE expression"],
    [pump('SELECT STREAM AVG("n") OVER (RANGE INTERVAL \'1\' MINUTE PRECEDING) FROM "SOURCE_SQL_STREAM_001"'), "SQL_UNSUPPORTED", "OVER", "OVER (sliding window)"],
    [pump('SELECT STREAM a."n" FROM "SOURCE_SQL_STREAM_001" AS a LEFT JOIN "OUT" AS b ON a.ROWTIME = b.ROWTIME'), "SQL_UNSUPPORTED", "LEFT", "LEFT JOIN"],
    [pump('SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY FLOOR(ROWTIME TO MINUTE) HAVING COUNT(*) > 1'), "SQL_UNSUPPORTED", "HAVING", "HAVING clause"],
    [pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" ORDER BY "n"'), "SQL_UNSUPPORTED", "ORDER", "ORDER BY"],
    [pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" WHERE "browseraction" LIKE \'C%\''), "SQL_UNSUPPORTED", "LIKE", "LIKE predicate"],
    [pump('SELECT STREAM SQRT("n") FROM "SOURCE_SQL_STREAM_001"'), "SQL_UNSUPPORTED", "SQRT", "function SQRT"],
    [pump('SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY FLOOR(ROWTIME TO YEAR)'), "SQL_UNSUPPORTED", "YEAR", "YEAR interval"],
    [pump('SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY CEIL(ROWTIME TO MINUTE)'), "SQL_UNSUPPORTED", "CEIL", "GROUP BY window"],
    [pump('SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY "browseraction"'), "SQL_INVALID", '"browseraction"', "GROUP BY"],
    [pump('SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001"'), "SQL_INVALID", "COUNT", "aggregate without GROUP BY"],
    [pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" GROUP BY STEP(ROWTIME BY INTERVAL \'10\' SECOND)'), "SQL_INVALID", '"n"', "column n"],
    [pump('SELECT STREAM a."n" FROM "SOURCE_SQL_STREAM_001" AS a, "OUT" AS b WHERE a."n" = b."X"'), "SQL_UNSUPPORTED", 'a."n" =', "stream join"],
    [pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" WHERE browseraction = \'Click\''), "SQL_INVALID", "browseraction =", "column BROWSERACTION"],
    [pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" WHERE "browseraction" = 1'), "SQL_INVALID", "= 1", "operator ="],
    [pump('SELECT STREAM "n" FROM "NOWHERE"'), "SQL_INVALID", '"NOWHERE"', "stream NOWHERE"],
    [pump('SELECT "n" FROM "SOURCE_SQL_STREAM_001"'), "SQL_INVALID", '"n"', "SELECT without STREAM"],
    [pump('SELECT STREAM "n", "n" FROM "SOURCE_SQL_STREAM_001"'), "SQL_INVALID", "SELECT", "INSERT INTO OUT"],
    [pump('SELECT STREAM "browseraction" FROM "SOURCE_SQL_STREAM_001"'), "SQL_INVALID", "SELECT", "INSERT INTO OUT"],
    [pump('SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001"), 100, 5))'), "SQL_INVALID", "5))", "RANDOM_CUT_FOREST subSampleSize"],
    [pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" WHERE "browseraction" = \'Click'), "SQL_SYNTAX", "'Click", "string literal"],
    [`${OUT}CREATE OR REPLACE VIEW "V" AS SELECT STREAM * FROM "OUT";`, "SQL_UNSUPPORTED", "VIEW", "CREATE VIEW"],
    [`${OUT}CREATE OR REPLACE STREAM "S" ("A" DECIMAL(8,2));`, "SQL_UNSUPPORTED", "DECIMAL", "type DECIMAL"],
    [`${OUT}CREATE OR REPLACE STREAM "OUT" ("Y" DOUBLE);`, "SQL_INVALID", '"OUT" ("Y"', "stream OUT"],
  ])("%#: %s", (sql, code, marker, construct) => {
    const lines = sql.split("\n");
    const line = lines.findIndex((l) => l.includes(marker)) + 1;
    const column = lines[line - 1].indexOf(marker) + 1;
    const error = compileError(sql);
    expect({ code: error.code, line: error.position?.line, column: error.position?.column, construct: error.construct }).toEqual({ code, line, column, construct });
    expect(error.message).toMatch(new RegExp(`^line ${line}, column ${column}: `));
  });

  it("explains an unquoted lower-case name", () => {
    const error = compileError(pump('SELECT STREAM "n" FROM "SOURCE_SQL_STREAM_001" WHERE browseraction = \'Click\''));
    expect(error.message).toMatch(/no such column here; columns: "browseraction", "n" \(unquoted names are upper-cased/);
  });

  it("refuses pumps that feed each other", () => {
    const sql = `CREATE OR REPLACE STREAM "A" ("X" INTEGER); CREATE OR REPLACE STREAM "B" ("X" INTEGER);
CREATE OR REPLACE PUMP "P1" STARTED AS INSERT INTO "A" SELECT STREAM "X" FROM "B";
CREATE OR REPLACE PUMP "P2" STARTED AS INSERT INTO "B" SELECT STREAM "X" FROM "A";`;
    expect(compileError(sql).message).toMatch(/line 2, column 1: pumps: they feed each other in a cycle/);
  });

  it("refuses an input schema with a type it does not know", () => {
    expect(() => compile(OUT, { inputs: [{ name: "SOURCE_SQL_STREAM_001", columns: [{ name: "x", sqlType: "VARCHAR" }] }] })).toThrow(
      /input stream SOURCE_SQL_STREAM_001 column x: type "VARCHAR": the end of the text|expected "\("/,
    );
  });
});
