/**
 * Dynamic providers' check failures: built as `{ property, reason }` where they are found, sent to
 * the engine without a property (it would print the property's whole value), thrown as one error.
 */
import { describe, expect, it } from "vitest";
import { connectionProblems } from "../../infra/dynamic/common";
import { assertNoProblems, checkFailures, problem, problemText } from "../../infra/dynamic/problems";

describe("problems", () => {
    it("read `property: reason`, or the reason alone when it names what it is about itself", () => {
        expect(problemText(problem("connection.port", "must be an integer from 1 to 65535"))).toBe("connection.port: must be an integer from 1 to 65535");
        expect(problemText(problem("", "p:postgres.schema cannot change"))).toBe("p:postgres.schema cannot change");
    });

    it("reach the engine with no property, the path leading the reason", () => {
        const problems = connectionProblems({ host: "h", port: 0, database: "d", user: "u", password: "pw", sslMode: "disable" });
        expect(problems).toEqual([{ property: "connection.port", reason: "must be an integer from 1 to 65535" }]);
        expect(checkFailures(problems)).toEqual([{ property: "", reason: "connection.port: must be an integer from 1 to 65535" }]);
        expect(checkFailures([])).toEqual([]);
    });

    it("are thrown as one error listing each, and nothing is thrown without any", () => {
        expect(() => assertNoProblems("Thing t", [problem("a", "bad"), problem("", "also bad")])).toThrow(
            new Error("Thing t: invalid inputs:\n  - a: bad\n  - also bad"),
        );
        expect(() => assertNoProblems("Thing t", [])).not.toThrow();
    });
});
